/* A stand-in for Windows' bcryptprimitives.dll, for Wine versions that lack it (Wine 8, as
 * in Debian 12). Rust's standard library (1.78+) gets its random bytes (HashMap keys) from
 * ProcessPrng in that DLL and cannot start without it. This one answers with
 * RtlGenRandom (advapi32's SystemFunction036), which Wine implements. Test use only:
 * .ci/platforms.sh builds it with mingw-w64 into the Wine prefix used for the tests.
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -s -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000 ? 0x10000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
