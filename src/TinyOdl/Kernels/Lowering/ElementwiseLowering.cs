using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>Element-by-element kernels: activations, gradient accumulation, conversions. Named by storage type.</summary>
internal static class ElementwiseLowering
{
    /// <summary>
    /// y = x &gt; 0 ? x : +0 for ReLU (so ReLU(-0) = +0 and ReLU(NaN) = +0 on every backend);
    /// y = x &gt; 0 ? x : x * slope for LeakyReLU (one rounded product). The slope is a constant of the storage type.
    /// </summary>
    public static Kernel ReluForward(int n, ScalarType t, float slope, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", t, n);
        var y = k.Output("y", t, n);
        k.For("i", 0, n, target.Vector, i => k.Store(y, i, Select(Gt(x[i], Const(0f, t)), x[i], Negative(x[i], slope, t))));
        return k.BuildKernel($"{ActivationName(slope)}_{t.Tag()}_forward{target.Suffix}_{n}");
    }

    /// <summary>dx = x &gt; 0 ? dy : +0 for ReLU (the subgradient at 0 is 0, as in PyTorch); dy * slope for LeakyReLU.</summary>
    public static Kernel ReluBackward(int n, ScalarType t, float slope, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", t, n);
        var dy = k.Input("dy", t, n);
        var dx = k.Output("dx", t, n);
        k.For("i", 0, n, target.Vector, i => k.Store(dx, i, Select(Gt(x[i], Const(0f, t)), dy[i], Negative(dy[i], slope, t))));
        return k.BuildKernel($"{ActivationName(slope)}_{t.Tag()}_backward{target.Suffix}_{n}");
    }

    /// <summary>
    /// y = 1 / (1 + exp(-x)) in binary32 (exp is <see cref="MathLibrary"/>'s), rounded once to storage. Scalar on every
    /// target: library calls do not run in SIMD lanes.
    /// </summary>
    public static Kernel SigmoidForward(int n, ScalarType t)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", t, n);
        var y = k.Output("y", t, n);
        k.For("i", 0, n, i => k.Store(y, i, Cast(F(1f) / (F(1f) + MathLibrary.Exp.Invoke(F(0f) - Cast(x[i], ScalarType.F32))), t)));
        return k.BuildKernel($"sigmoid_{t.Tag()}_forward_{n}");
    }

    /// <summary>dx = dy * (y * (1 - y)) in binary32 from the stored forward output, rounded once to storage.</summary>
    public static Kernel SigmoidBackward(int n, ScalarType t)
    {
        var k = new KernelBuilder();
        var y = k.Input("y", t, n);
        var dy = k.Input("dy", t, n);
        var dx = k.Output("dx", t, n);
        k.For("i", 0, n, i =>
        {
            var s = k.Declare("s", Cast(y[i], ScalarType.F32));
            k.Store(dx, i, Cast(Cast(dy[i], ScalarType.F32) * (Ref(s) * (F(1f) - Ref(s))), t));
        });
        return k.BuildKernel($"sigmoid_{t.Tag()}_backward_{n}");
    }

    private static Expr Negative(Expr v, float slope, ScalarType t) => slope == 0f ? Const(0f, t) : v * Const(slope, t);

    private static string ActivationName(float slope) =>
        slope == 0f ? "relu" : $"leaky_relu{BitConverter.SingleToUInt32Bits(slope):x8}";

    /// <summary>y = a + b.</summary>
    public static Kernel Add(int n, ScalarType t, KernelTarget target)
    {
        var k = new KernelBuilder();
        var a = k.Input("a", t, n);
        var b = k.Input("b", t, n);
        var y = k.Output("y", t, n);
        k.For("i", 0, n, target.Vector, i => k.Store(y, i, a[i] + b[i]));
        return k.BuildKernel($"add_{t.Tag()}{target.Suffix}_{n}");
    }

    /// <summary>acc += addend, in the storage type.</summary>
    public static Kernel AccumulateInPlace(int n, ScalarType t, KernelTarget target)
    {
        var k = new KernelBuilder();
        var acc = k.Output("acc", t, n);
        var a = k.Input("addend", t, n);
        k.For("i", 0, n, target.Vector, i => k.Store(acc, i, acc[i] + a[i]));
        return k.BuildKernel($"add_{t.Tag()}_inplace{target.Suffix}_{n}");
    }

    /// <summary>dst = src, converted (f16 -> f32 exact, f32 -> f16 round to nearest even) when the types differ.</summary>
    public static Kernel Convert(int n, ScalarType from, ScalarType to, KernelTarget target)
    {
        var k = new KernelBuilder();
        var src = k.Input("src", from, n);
        var dst = k.Output("dst", to, n);
        k.For("i", 0, n, target.Vector, i => k.Store(dst, i, Cast(src[i], to)));
        return k.BuildKernel(from == to ? $"copy_{to.Tag()}{target.Suffix}_{n}" : $"convert_{from.Tag()}_to_{to.Tag()}{target.Suffix}_{n}");
    }

    public static Kernel FillZero(int n, ScalarType t, KernelTarget target)
    {
        var k = new KernelBuilder();
        var dst = k.Output("dst", t, n);
        k.For("i", 0, n, target.Vector && t.IsFloat(), i => k.Store(dst, i, t == ScalarType.I32 ? 0 : Const(0f, t)));
        return k.BuildKernel($"fill_{t.Tag()}_zero{target.Suffix}_{n}");
    }
}
