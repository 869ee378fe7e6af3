int kv_placeholder_score;
