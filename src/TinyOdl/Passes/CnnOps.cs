using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>
/// How a convolution pass is computed. Both give the same bits (docs/NUMERICS.md, "Convolutions"): the column
/// matrix holds exactly the values the direct loop nest reads, in the same reduction order.
/// </summary>
public enum ConvAlgorithm
{
    /// <summary>A loop nest over the input, no scratch.</summary>
    Direct,
    /// <summary>The taps copied into a column matrix (scratch), then a matrix product.</summary>
    Im2col,
    /// <summary>1x1, stride 1, unpadded: the input is the column matrix; a matrix product without a copy.</summary>
    Pointwise,
}

/// <summary>Y = conv(X, W) + B. <see cref="Columns"/> is the im2col scratch when <see cref="Algorithm"/> is Im2col.</summary>
public sealed record ConvForward(string Name, TrainingTensor X, TrainingTensor W, TrainingTensor? B, TrainingTensor Y, ConvGeometry Geometry,
    Precision Precision, ConvAlgorithm Algorithm, TrainingTensor? Columns) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => B is null ? [X, W] : [X, W, B];
    public override IEnumerable<TrainingTensor> Writes => Columns is null ? [Y] : [Y, Columns];
}

/// <summary>dW = sum over output pixels of dY * X (shifted by the tap), per weight.</summary>
public sealed record ConvWeightGradient(string Name, TrainingTensor DY, TrainingTensor X, TrainingTensor DW, ConvGeometry Geometry,
    Precision Precision, ConvAlgorithm Algorithm, TrainingTensor? Columns) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY, X];
    public override IEnumerable<TrainingTensor> Writes => Columns is null ? [DW] : [DW, Columns];
}

/// <summary>
/// dX: every output gradient scattered back through its taps (the transposed convolution).
/// <see cref="Accumulator"/> is a scratch in the accumulation type when it differs from the storage type.
/// </summary>
public sealed record ConvInputGradient(string Name, TrainingTensor DY, TrainingTensor W, TrainingTensor DX, ConvGeometry Geometry,
    Precision Precision, TrainingTensor? Accumulator) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY, W];
    public override IEnumerable<TrainingTensor> Writes => Accumulator is null ? [DX] : [DX, Accumulator];
}

/// <summary>dB[c] = sum over the pixels of channel c of dY (a convolution's bias, a batch norm's shift).</summary>
public sealed record ChannelSumGradient(string Name, TrainingTensor DY, TrainingTensor DB, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY];
    public override IEnumerable<TrainingTensor> Writes => [DB];
}

public sealed record PoolForward(string Name, TrainingTensor X, TrainingTensor Y, PoolKind Kind, Window2d Window, bool CountIncludePad, Precision Precision) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => [X];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>dX of a pooling; max pooling reads X again to find each window's winner (no index buffer is kept).</summary>
public sealed record PoolBackward(string Name, TrainingTensor? X, TrainingTensor DY, TrainingTensor DX, PoolKind Kind, Window2d Window, bool CountIncludePad, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => X is null ? [DY] : [X, DY];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}

/// <summary>Y = fma((X - Mean) * InvStd, Scale, Shift) per channel.</summary>
public sealed record BatchNormForward(string Name, TrainingTensor X, TrainingTensor Scale, TrainingTensor Shift, TrainingTensor Mean, TrainingTensor InvStd,
    TrainingTensor Y, Precision Precision) : TrainingOp(Name, Phase.Forward)
{
    public override bool IsElementwise => true;
    public override IEnumerable<TrainingTensor> Reads => [X, Scale, Shift, Mean, InvStd];
    public override IEnumerable<TrainingTensor> Writes => [Y];
}

/// <summary>dScale[c] = sum over pixels of dY * (X - Mean) * InvStd.</summary>
public sealed record BatchNormScaleGradient(string Name, TrainingTensor DY, TrainingTensor X, TrainingTensor Mean, TrainingTensor InvStd,
    TrainingTensor DScale, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY, X, Mean, InvStd];
    public override IEnumerable<TrainingTensor> Writes => [DScale];
}

/// <summary>dX = dY * Scale * InvStd per channel (the statistics are constants).</summary>
public sealed record BatchNormInputGradient(string Name, TrainingTensor DY, TrainingTensor Scale, TrainingTensor InvStd, TrainingTensor DX, Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override bool IsElementwise => true;
    public override IEnumerable<TrainingTensor> Reads => [DY, Scale, InvStd];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}
