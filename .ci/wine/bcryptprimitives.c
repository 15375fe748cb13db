/* A stand-in for Windows' bcryptprimitives.dll, which Debian 12's Wine 8 lacks and
 * Rust's std (1.78 and later) loads for ProcessPrng, its source of random numbers.
 * Built with MinGW and put in the Wine prefix's system32 by .ci/run; never shipped.
 * ProcessPrng fills the buffer from RtlGenRandom (advapi32's SystemFunction036). */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
