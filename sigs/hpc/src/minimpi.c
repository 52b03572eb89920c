/* minimpi: a stand-in for an MPI library. VARIANT names the build. */
static const char variant[] = VARIANT;

const char *minimpi_variant(void) { return variant; }

int minimpi_rank(void) { return 0; }
