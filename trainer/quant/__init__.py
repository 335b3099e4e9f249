"""Weight-only quantization: int8 and int4 (RTN, GPTQ) linears and the quantized folder format."""
