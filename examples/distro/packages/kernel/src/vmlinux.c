/* Stand-in for a kernel image: a program that says which kernel it is. */
#include <stdio.h>

#ifndef KVER
#define KVER "unknown"
#endif

int main(void)
{
	printf("Linux version %s (Quarry example stand-in kernel)\n", KVER);
	return 0;
}
