namespace TinyOdl.Graph;

/// <summary>
/// SGD as PyTorch defines it: g = grad + weight_decay * w; v = momentum * v + g; w = w - lr * v
/// (without momentum: w = w - lr * g). Batch size 1: one update per sample.
/// </summary>
public sealed record SgdOptimizer(float LearningRate, float Momentum = 0f, float WeightDecay = 0f)
{
    public bool HasMomentum => Momentum != 0f;
    public bool HasWeightDecay => WeightDecay != 0f;
}
