/*
 * A stand-in for Windows' bcryptprimitives.dll, for running Rust programs under Wine 8.
 *
 * Rust's standard library for Windows (1.78 and later) fills its random keys with
 * ProcessPrng from bcryptprimitives.dll. Wine 8, which Debian 12 ships, has no ProcessPrng,
 * so without this DLL every Rust program exits with status 53 before main, silently. This
 * DLL exports ProcessPrng and answers it with RtlGenRandom (advapi32's SystemFunction036),
 * which Wine has. CI builds it with x86_64-w64-mingw32-gcc and puts it on WINEPATH
 * (.ci/wine/setup.sh); nothing else uses it.
 *
 * References: Microsoft Learn, "ProcessPrng function" and "RtlGenRandom function
 * (ntsecapi.h)".
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
