using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>
/// The per-layer choice between building W and the factored evaluation of a PHM layer (docs/PHM.md, "Build or
/// factored"), with the multiply-accumulates of one training step and the scratch bytes of each. With
/// O = out * in * kh * kw * output pixels (the ordinary layer's pass), |W| = out * in * kh * kw and
/// M = n^2 * in * input pixels (mixing the input's channel blocks with A):
/// <list type="bullet">
/// <item>build: n|W| (W) + O (forward) + O (G, if A or F trains) + n|W| (dA) + n|W| (dF) + O (dx);
/// scratch W and G in the storage type;</item>
/// <item>factored: M (U) + O (forward) + O (dF) + O (dU, if A trains or dx is needed) + M (dA) + M (dx);
/// scratch U and dU in the accumulation type.</item>
/// </list>
/// Terms of a frozen factor or an unneeded input gradient drop out. Auto takes the factored evaluation when it needs
/// strictly fewer MACs, or as many and fewer bytes, except for n = 1, where W = A_0 F_0 is a scaled copy of F and
/// building it keeps the layer bit-identical to the ordinary one.
/// </summary>
public sealed record PhmEvaluationPlan(bool Factored, long BuildMacs, long FactoredMacs, long BuildScratchBytes, long FactoredScratchBytes)
{
    public static PhmEvaluationPlan For(PhmLayerNode layer, bool inputGradient)
    {
        var g = layer.Geometry;
        var s = PhmShape.Of(layer);
        bool trainA = layer.A.Trainable, trainF = layer.F.Trainable;
        long pass = g.Macs, weights = s.WeightElements, build = s.BuildMacs, mix = s.MixMacs(g.Window.InputPixels);
        long buildMacs = build + pass + (trainA || trainF ? pass : 0) + (trainA ? build : 0) + (trainF ? build : 0) + (inputGradient ? pass : 0);
        long factoredMacs = mix + pass + (trainF ? pass : 0) + (trainA || inputGradient ? pass : 0) + (trainA ? mix : 0) + (inputGradient ? mix : 0);
        int storage = layer.Precision.Storage().SizeInBytes(), accumulate = layer.Precision.Accumulation().SizeInBytes();
        long mixed = s.MixedElements(g.Window.InputPixels);
        long buildBytes = weights * storage * (trainA || trainF ? 2 : 1);
        long factoredBytes = mixed * accumulate * (trainA || inputGradient ? 2 : 1);
        bool factored = layer.Evaluation switch
        {
            PhmEvaluation.Build => false,
            PhmEvaluation.Factored => true,
            _ => layer.N > 1 && (factoredMacs < buildMacs || factoredMacs == buildMacs && factoredBytes < buildBytes),
        };
        return new PhmEvaluationPlan(factored, buildMacs, factoredMacs, buildBytes, factoredBytes);
    }

    /// <summary>The chosen evaluation's MACs per training step.</summary>
    public long Macs => Factored ? FactoredMacs : BuildMacs;
}
