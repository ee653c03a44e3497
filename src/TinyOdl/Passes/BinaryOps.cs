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

/// <summary>
/// Y = alpha[o] * (taps - 2 * popcount(x XOR w)) + B, by XNOR and popcount over the packed signs; with <see cref="Mst"/>
/// every channel but each group's root from its tree parent's accumulator (the same bits).
/// </summary>
public sealed record XnorConvForward(string Name, TrainingTensor XBits, TrainingTensor WBits, TrainingTensor Alpha, TrainingTensor? B, TrainingTensor Y,
    ConvGeometry Geometry, BinaryPadding Padding, Precision Precision, MstForwardTensors? Mst = null) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => [XBits, WBits, Alpha, .. B is null ? [] : new[] { B }, .. Mst is null ? [] : new[] { Mst.Parent, Mst.Order }];
    public override IEnumerable<TrainingTensor> Writes => Mst is null ? [Y] : [Y, Mst.Accumulators];
}

/// <summary>The MST forward's tree (from <see cref="MstBuildTree"/>) and its per-pixel accumulators (scratch).</summary>
public sealed record MstForwardTensors(TrainingTensor Parent, TrainingTensor Order, TrainingTensor Accumulators);

/// <summary>
/// A binary layer's MST: the tree and the weight image written with it (<see cref="Binary.MstImage"/>; layer state,
/// kept across steps) and Prim's working arrays (scratch).
/// </summary>
public sealed record MstTreeTensors(TrainingTensor PreviousBits, TrainingTensor Built, TrainingTensor Parent, TrainingTensor Order,
    TrainingTensor Key, TrainingTensor InTree, TrainingTensor Depth, TrainingTensor Image, TrainingTensor ImageBits);

/// <summary>
/// Rebuilds a binary layer's MST on the device (Prim, the tie-breaking rule of MstPlanner) when any packed weight bit
/// differs from the bits the tree was built for, or on the first call, and then writes the layer's weight image;
/// otherwise one pass comparing words.
/// </summary>
public sealed record MstBuildTree(string Name, TrainingTensor WBits, MstTreeTensors Tree, ConvGeometry Geometry, int? MaxDepth) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => [WBits, Tree.PreviousBits, Tree.Built];
    public override IEnumerable<TrainingTensor> Writes => [Tree.PreviousBits, Tree.Built, Tree.Parent, Tree.Order, Tree.Key, Tree.InTree, Tree.Depth,
        Tree.Image, Tree.ImageBits];
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

/// <summary>Adds the MST regularizer's gradient to dW in place (<see cref="MstOption.Regularization"/>).</summary>
public sealed record MstRegularizer(string Name, TrainingTensor W, TrainingTensor Parent, TrainingTensor Order, TrainingTensor DW, ConvGeometry Geometry,
    float Lambda, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [W, Parent, Order, DW];
    public override IEnumerable<TrainingTensor> Writes => [DW];
}
