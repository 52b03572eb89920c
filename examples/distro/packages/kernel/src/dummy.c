/* Stand-in for a kernel module: its object is shipped under /lib/modules. */
int dummy_init(void) { return 0; }
