"""Post-training from a pretraining run: LoRA SFT and GRPO with verifiable rewards."""
