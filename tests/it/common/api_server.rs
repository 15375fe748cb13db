//! A stand-in Kubernetes API server for the end-to-end tests: TLS on loopback with a
//! certificate made at start, answering `GET /api` with 200 for the bearer tokens the
//! test accepts and 401 otherwise, and recording every Authorization header it got.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

type Accept = dyn Fn(&str) -> bool + Send + Sync;

pub struct ApiServer {
    pub port: u16,
    /// PEM of the server's self-signed certificate, for the kubeconfig.
    pub ca_file: PathBuf,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl ApiServer {
    /// Starts on a free port. `accept` decides which bearer tokens get a 200.
    pub fn start(dir: &Path, accept: impl Fn(&str) -> bool + Send + Sync + 'static) -> ApiServer {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
        let ca_file = dir.join("apiserver-ca.pem");
        std::fs::write(&ca_file, cert.cert.pem()).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.cert.der().clone()], key)
            .unwrap();
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let accept: Arc<Accept> = Arc::new(accept);
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (config, seen, accept) = (config.clone(), seen.clone(), accept.clone());
                    thread::spawn(move || serve(stream, config, &seen, &*accept));
                }
            });
        }
        ApiServer {
            port,
            ca_file,
            seen,
            stop,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// Every Authorization header received, in order (`None` entries are requests without one).
    pub fn authorizations(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// The bearer tokens received, in order.
    pub fn bearer_tokens(&self) -> Vec<String> {
        self.authorizations()
            .iter()
            .filter_map(|h| h.strip_prefix("Bearer ").map(String::from))
            .collect()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wake the accept loop
    }
}

fn serve(tcp: TcpStream, config: Arc<rustls::ServerConfig>, seen: &Mutex<Vec<String>>, accept: &Accept) {
    let Ok(conn) = rustls::ServerConnection::new(config) else {
        return;
    };
    let mut tls = BufReader::new(rustls::StreamOwned::new(conn, tcp));
    // HTTP/1.1 with keep-alive: one request after another on the same connection.
    loop {
        let mut request_line = String::new();
        if tls.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut authorization = None;
        loop {
            let mut line = String::new();
            if tls.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("authorization")
            {
                authorization = Some(value.trim().to_string());
            }
        }
        seen.lock().unwrap().push(authorization.clone().unwrap_or_default());
        let path = request_line.split_whitespace().nth(1).unwrap_or("");
        let token = authorization.as_deref().and_then(|a| a.strip_prefix("Bearer "));
        let (status, body) = match (path, token) {
            ("/api", Some(t)) if accept(t) => (
                "200 OK",
                r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:443"}]}"#,
            ),
            ("/api", _) => (
                "401 Unauthorized",
                r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#,
            ),
            _ => (
                "404 Not Found",
                r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"NotFound","code":404}"#,
            ),
        };
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let stream = tls.get_mut();
        if stream
            .write_all(response.as_bytes())
            .and_then(|()| stream.flush())
            .is_err()
        {
            return;
        }
    }
}
