/* placeholder: being written */
typedef int kv_placeholder_clova;
