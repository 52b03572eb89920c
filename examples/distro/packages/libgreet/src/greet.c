#include <stdio.h>
#include "greet.h"

int greet_format(char *buf, int size, const char *who)
{
	return snprintf(buf, size, "Hello, %s!", who ? who : "world");
}

const char *greet_version(void)
{
	return "1.2";
}
