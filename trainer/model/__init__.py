"""The model: a Llama-style decoder (dense or MoE), RoPE variants, checkpoint reading and Hugging Face conversion."""
