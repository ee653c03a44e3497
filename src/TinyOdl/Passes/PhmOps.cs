using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>The shapes of a PHM layer's factors: n, F_i's P x Q, and kh * kw taps per (row, column) (1 for linear).</summary>
public sealed record PhmShape(int N, int P, int Q, int KernelArea)
{
    public static PhmShape Of(PhmLayerNode node) => new(node.N, node.P, node.Q, node.Geometry.Window.KernelArea);
    public int WeightElements => N * P * N * Q * KernelArea;
    /// <summary>Multiply-accumulates of building W once: n per weight.</summary>
    public long BuildMacs => (long)N * WeightElements;
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
