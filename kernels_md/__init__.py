"""kenkyu.kernels_md: a dataflow-partitioned force backend for OpenMM, after MDGRAPE-5."""
