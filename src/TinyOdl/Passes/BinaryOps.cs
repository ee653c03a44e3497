using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>
/// Packs the latent weights' signs, [out][kh][kw][word] with the group's input channels 32 per word, and computes
/// alpha[o] = mean |W[o]| (docs/BINARY.md). Runs every step: the latent weights change with each update.
/// </summary>
public sealed record BinarizeWeights(string Name, TrainingTensor W, TrainingTensor Bits, TrainingTensor Alpha, ConvGeometry Geometry, Precision Precision)
    : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => [W];
    public override IEnumerable<TrainingTensor> Writes => [Bits, Alpha];
}

/// <summary>Packs the signs of a CHW activation, [pixel][group][word] (a pixel's channels are contiguous bits).</summary>
public sealed record PackSigns(string Name, TrainingTensor X, TrainingTensor Bits, ConvGeometry Geometry) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => [X];
    public override IEnumerable<TrainingTensor> Writes => [Bits];
}

/// <summary>Y = alpha[o] * (taps - 2 * popcount(x XOR w)) + B, by XNOR and popcount over the packed signs.</summary>
public sealed record XnorConvForward(string Name, TrainingTensor XBits, TrainingTensor WBits, TrainingTensor Alpha, TrainingTensor? B, TrainingTensor Y,
    ConvGeometry Geometry, BinaryPadding Padding, Precision Precision) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => B is null ? [XBits, WBits, Alpha] : [XBits, WBits, Alpha, B];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>
/// Y = sign(X) as +-1 values of Y's type, for the weight gradient. With <see cref="OnesFrame"/> (one padding) Y is the
/// input framed by the window's padding, filled with +1, so an unpadded convolution reads what the forward read.
/// </summary>
public sealed record SignActivations(string Name, TrainingTensor X, TrainingTensor Y, int Channels, Window2d? OnesFrame) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [X];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>Y = alpha[o] * sign(W[o]): the binarized weights as values, for the input gradient.</summary>
public sealed record ScaledSignWeights(string Name, TrainingTensor W, TrainingTensor Alpha, TrainingTensor Y, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [W, Alpha];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>
/// Straight-through estimator for the latent weights, alpha a constant: dW = alpha[o] * dWb where |W| &lt;= 1, else 0;
/// dWb is the gradient with respect to the binarized weights.
/// </summary>
public sealed record BinaryWeightGradient(string Name, TrainingTensor DWb, TrainingTensor W, TrainingTensor Alpha, TrainingTensor DW, Precision Precision)
    : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DWb, W, Alpha];
    public override IEnumerable<TrainingTensor> Writes => [DW];
}

/// <summary>Straight-through estimator for sign: dX = dY where |X| &lt;= 1 (bound inclusive), else 0.</summary>
public sealed record SignGradient(string Name, TrainingTensor X, TrainingTensor DY, TrainingTensor DX) : TrainingOp(Name, Phase.Backward)
{
    public override bool IsElementwise => true;
    public override IEnumerable<TrainingTensor> Reads => [X, DY];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}
