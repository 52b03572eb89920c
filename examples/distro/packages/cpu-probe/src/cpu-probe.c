#include <stdio.h>

int main(void)
{
#if defined(__x86_64__)
	puts("x86_64: SSE2 baseline");
#elif defined(__aarch64__)
	puts("aarch64: ASIMD baseline");
#else
#error "cpu-probe supports x86_64 and aarch64 only"
#endif
	return 0;
}
