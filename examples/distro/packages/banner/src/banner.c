#include <stdio.h>

#ifndef BANNER_NAME
#define BANNER_NAME "Summit Enterprise Linux"
#endif

int main(void)
{
	printf("Welcome to %s\n", BANNER_NAME);
	return 0;
}
