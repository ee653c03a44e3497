using TinyOdl.Graph;

namespace TinyOdl.Tests.MathTruth;

/// <summary>Unit roundoffs and Higham's gamma_n, shared by the tests that hold kernels to float64 with rigorous bounds.</summary>
internal static class RoundingBounds
{
    public static readonly double U32 = Math.ScaleB(1.0, -24), U16 = Math.ScaleB(1.0, -11);

    /// <summary>Unit roundoff of p's accumulation type.</summary>
    public static double Unit(Precision p) => p == Precision.Fp16 ? U16 : U32;

    /// <summary>gamma_n = n u / (1 - n u): the relative error bound of n roundings (unbounded once n u reaches 1).</summary>
    public static double Gamma(int n, double u) => n * u < 1 ? n * u / (1 - n * u) : double.PositiveInfinity;

    /// <summary>
    /// n roundings in p's accumulation type (a chain of fused multiply-adds), plus the rounding of the result to binary16
    /// storage for fp16-mixed; 0.1 % slack covers the products of the error terms.
    /// </summary>
    public static double Accumulation(Precision p, int n) => (Gamma(n, Unit(p)) + (p == Precision.Fp16Mixed ? U16 : 0)) * 1.001;
}
