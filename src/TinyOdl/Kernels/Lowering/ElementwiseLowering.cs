using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>Element-by-element kernels: activations, gradient accumulation, copies.</summary>
internal static class ElementwiseLowering
{
    /// <summary>y = x &gt; 0 ? x : +0 (so ReLU(-0) = +0 and ReLU(NaN) = +0 on every backend).</summary>
    public static Kernel ReluForward(int n)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", ScalarType.F32, n);
        var y = k.Output("y", ScalarType.F32, n);
        k.For("i", 0, n, i => k.Store(y, i, Select(Gt(x[i], F(0f)), x[i], F(0f))));
        return k.BuildKernel($"relu_f32_forward_{n}");
    }

    /// <summary>dx = x &gt; 0 ? dy : +0 (the subgradient at 0 is 0, as in PyTorch).</summary>
    public static Kernel ReluBackward(int n)
    {
        var k = new KernelBuilder();
        var x = k.Input("x", ScalarType.F32, n);
        var dy = k.Input("dy", ScalarType.F32, n);
        var dx = k.Output("dx", ScalarType.F32, n);
        k.For("i", 0, n, i => k.Store(dx, i, Select(Gt(x[i], F(0f)), dy[i], F(0f))));
        return k.BuildKernel($"relu_f32_backward_{n}");
    }

    /// <summary>acc += addend.</summary>
    public static Kernel AccumulateInPlace(int n)
    {
        var k = new KernelBuilder();
        var acc = k.Output("acc", ScalarType.F32, n);
        var a = k.Input("addend", ScalarType.F32, n);
        k.For("i", 0, n, i => k.Store(acc, i, acc[i] + a[i]));
        return k.BuildKernel($"add_f32_inplace_{n}");
    }

    public static Kernel Copy(int n)
    {
        var k = new KernelBuilder();
        var src = k.Input("src", ScalarType.F32, n);
        var dst = k.Output("dst", ScalarType.F32, n);
        k.For("i", 0, n, i => k.Store(dst, i, src[i]));
        return k.BuildKernel($"copy_f32_{n}");
    }

    public static Kernel FillZero(int n)
    {
        var k = new KernelBuilder();
        var dst = k.Output("dst", ScalarType.F32, n);
        k.For("i", 0, n, i => k.Store(dst, i, F(0f)));
        return k.BuildKernel($"fill_f32_zero_{n}");
    }
}
