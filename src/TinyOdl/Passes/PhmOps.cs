using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>The shapes of a PHM layer's factors: n, F_i's P x Q, and kh * kw taps per (row, column) (1 for linear).</summary>
public sealed record PhmShape(int N, int P, int Q, int KernelArea)
{
    public static PhmShape Of(PhmLayerNode node) => new(node.N, node.P, node.Q, node.Geometry.Window.KernelArea);
    public int WeightElements => N * P * N * Q * KernelArea;
    /// <summary>Multiply-accumulates of building W once: n per weight.</summary>
    public long BuildMacs => (long)N * WeightElements;
    /// <summary>Elements of the mixed input U (or its gradient dU): n blocks of the input's n * Q channels.</summary>
    public long MixedElements(int inputPixels) => (long)N * N * Q * inputPixels;
    /// <summary>
    /// The ordinary layer each output block of the factored evaluation runs over U[r]: n * Q input channels (i, q), P
    /// outputs, the layer's window. Its algorithm (direct, im2col, pointwise) is chosen as for a convolution.
    /// </summary>
    public ConvGeometry BlockGeometry(Window2d window) => new(N * Q, P, 1, window);
    /// <summary>Multiply-accumulates of mixing the input with A (or of dA or dx from dU): n per element of U.</summary>
    public long MixMacs(int inputPixels) => N * MixedElements(inputPixels);
}

/// <summary>W[r P + p][c Q + q][t] = sum over i ascending of A_i[r][c] * F_i[p][q][t] (docs/PHM.md).</summary>
public sealed record PhmBuildWeight(string Name, TrainingTensor A, TrainingTensor F, TrainingTensor W, PhmShape Shape, Precision Precision)
    : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => [A, F];
    public override IEnumerable<TrainingTensor> Writes => [W];
}

/// <summary>
/// From G = dL/dW: dA_i[r][c] = sum over p, q, t of G[r P + p][c Q + q][t] * F_i[p][q][t] and
/// dF_i[p][q][t] = sum over r, c of G[r P + p][c Q + q][t] * A_i[r][c]; either may be absent (a frozen factor).
/// </summary>
public sealed record PhmGradient(string Name, TrainingTensor G, TrainingTensor A, TrainingTensor F, TrainingTensor? DA, TrainingTensor? DF, PhmShape Shape,
    Precision Precision) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [G, A, F];
    public override IEnumerable<TrainingTensor> Writes => [.. DA is null ? [] : new[] { DA }, .. DF is null ? [] : new[] { DF }];
}

// The factored evaluation (docs/PHM.md, "Build or factored"). With x's channels as n blocks of Q, x[c][q], and
// y's as n blocks of P, y[r][p]: y[r][p] = b + sum_i F_i * U[r][i], U[r][i][q] = sum_c A_i[r][c] x[c][q], where
// "F_i *" is the layer's pass (a convolution, or a product for linear layers) from Q channels to P. U and dU are kept
// in the accumulation type.

/// <summary>U[r][i][q][pixel] = sum over c ascending of A_i[r][c] * X[c][q][pixel], from +0.</summary>
public sealed record PhmMixInput(string Name, TrainingTensor X, TrainingTensor A, TrainingTensor U, PhmShape Shape, ConvGeometry Geometry, Precision Precision)
    : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => [X, A];
    public override IEnumerable<TrainingTensor> Writes => [U];
}

/// <summary>Y[r][p] = B[r P + p] + sum over i, q, taps of F_i[p][q][tap] * U[r][i][q] at that tap (the convolution's order).</summary>
/// <remarks>Algorithm and Columns: the pass over U[r] as a convolution's (Autodiff.ChooseAlgorithm; never changes bits).</remarks>
public sealed record PhmFactoredForward(string Name, TrainingTensor U, TrainingTensor F, TrainingTensor? B, TrainingTensor Y, PhmShape Shape, ConvGeometry Geometry,
    Precision Precision, ConvAlgorithm Algorithm, TrainingTensor? Columns) : TrainingOp(Name, Phase.Forward)
{
    public override IEnumerable<TrainingTensor> Reads => B is null ? [U, F] : [U, F, B];
    public override IEnumerable<TrainingTensor> Writes => Columns is null ? [Y] : [Y, Columns];
}

/// <summary>dF_i[p][q][tap] = sum over r, then output pixels, of dY[r][p] * U[r][i][q] at that tap, from +0.</summary>
/// <remarks>Accumulator: dF's sums across the output blocks in the accumulation type, when the matrix-product algorithm needs one.</remarks>
public sealed record PhmFactorGradient(string Name, TrainingTensor DY, TrainingTensor U, TrainingTensor DF, PhmShape Shape, ConvGeometry Geometry, Precision Precision,
    ConvAlgorithm Algorithm, TrainingTensor? Columns, TrainingTensor? Accumulator) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY, U];
    public override IEnumerable<TrainingTensor> Writes => [DF, .. Columns is null ? [] : new[] { Columns }, .. Accumulator is null ? [] : new[] { Accumulator }];
}

/// <summary>
/// dU[r][i] = F_i^T applied to dY[r] (the convolution's input gradient, its order), in the accumulation type.
/// <see cref="ForInput"/>: dx needs it (else only dA does), which is the pass its MACs are reported under.
/// </summary>
public sealed record PhmMixedGradient(string Name, TrainingTensor DY, TrainingTensor F, TrainingTensor DU, PhmShape Shape, ConvGeometry Geometry, Precision Precision,
    bool ForInput) : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DY, F];
    public override IEnumerable<TrainingTensor> Writes => [DU];
}

/// <summary>dA_i[r][c] = sum over q, pixels of dU[r][i][q] * X[c][q], from +0.</summary>
public sealed record PhmMixWeightGradient(string Name, TrainingTensor DU, TrainingTensor X, TrainingTensor DA, PhmShape Shape, ConvGeometry Geometry, Precision Precision)
    : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DU, X];
    public override IEnumerable<TrainingTensor> Writes => [DA];
}

/// <summary>dX[c][q] = sum over r, then i, of A_i[r][c] * dU[r][i][q], from +0.</summary>
public sealed record PhmMixInputGradient(string Name, TrainingTensor DU, TrainingTensor A, TrainingTensor DX, PhmShape Shape, ConvGeometry Geometry, Precision Precision)
    : TrainingOp(Name, Phase.Backward)
{
    public override IEnumerable<TrainingTensor> Reads => [DU, A];
    public override IEnumerable<TrainingTensor> Writes => [DX];
}
