# Homebrew formula for kubecredcache, a template: the release workflow fills in the
# version and checksums (packaging/fill.py) and publishes it to the tap.
class Kubecredcache < Formula
  desc "Caches the credentials that kubectl exec plugins print"
  homepage "https://github.com/kubecredcache/kubecredcache"
  version "@VERSION@"
  license any_of: ["MIT", "Apache-2.0"]

  on_macos do
    on_arm do
      url "https://github.com/kubecredcache/kubecredcache/releases/download/v@VERSION@/kubecredcache-@VERSION@-aarch64-apple-darwin.tar.gz"
      sha256 "@SHA256_AARCH64_APPLE_DARWIN@"
    end
    on_intel do
      url "https://github.com/kubecredcache/kubecredcache/releases/download/v@VERSION@/kubecredcache-@VERSION@-x86_64-apple-darwin.tar.gz"
      sha256 "@SHA256_X86_64_APPLE_DARWIN@"
    end
  end

  on_linux do
    on_arm do
      url "https://github.com/kubecredcache/kubecredcache/releases/download/v@VERSION@/kubecredcache-@VERSION@-aarch64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_AARCH64_UNKNOWN_LINUX_MUSL@"
    end
    on_intel do
      url "https://github.com/kubecredcache/kubecredcache/releases/download/v@VERSION@/kubecredcache-@VERSION@-x86_64-unknown-linux-musl.tar.gz"
      sha256 "@SHA256_X86_64_UNKNOWN_LINUX_MUSL@"
    end
  end

  def install
    bin.install "kubecredcache"
    man1.install "kubecredcache.1"
    bash_completion.install "completions/kubecredcache.bash" => "kubecredcache"
    zsh_completion.install "completions/_kubecredcache"
    fish_completion.install "completions/kubecredcache.fish"
  end

  test do
    assert_equal "kubecredcache #{version}\n", shell_output("#{bin}/kubecredcache --version")
    assert_match "aws-eks", shell_output("#{bin}/kubecredcache list-providers")
  end
end
