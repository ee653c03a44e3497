namespace TinyOdl.Graph;

/// <summary>
/// SGD as PyTorch defines it: g = grad + weight_decay * w; v = momentum * v + g; w = w - lr * v
/// (without momentum: w = w - lr * g). Batch size 1: one update per sample.
/// <paramref name="LossScale"/> is static loss scaling for FP16 gradients: the loss gradient is multiplied by it
/// and the update divides it out again; a power of two, so both scalings are exact (barring overflow).
/// </summary>
public sealed record SgdOptimizer(float LearningRate, float Momentum = 0f, float WeightDecay = 0f, float LossScale = 1f)
{
    public bool HasMomentum => Momentum != 0f;
    public bool HasWeightDecay => WeightDecay != 0f;
    public bool HasLossScale => LossScale != 1f;
}
