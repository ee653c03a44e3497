using TinyOdl.Graph;
using static TinyOdl.Kernels.Ir;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// Broadcasting element-wise kernels: one loop per output dimension, and each operand indexed with stride 0 along the
/// dimensions it is repeated in (ONNX / NumPy rules: shapes aligned at the last dimension).
/// </summary>
internal static class BroadcastLowering
{
    /// <summary>Element strides of <paramref name="operand"/> per dimension of <paramref name="output"/> (0 where broadcast).</summary>
    private static int[] Strides(Shape output, Shape operand)
    {
        var strides = new int[output.Rank];
        int stride = 1;
        for (int i = 1; i <= output.Rank; i++)
        {
            int d = i <= operand.Rank ? operand[operand.Rank - i] : 1;
            strides[output.Rank - i] = d == 1 ? 0 : stride;
            stride *= d;
        }
        return strides;
    }

    private static string Dims(Shape s) => string.Join("x", s.Dims);

    /// <summary>Nested loops over the output; the innermost may run as SIMD lanes.</summary>
    private static void Loops(KernelBuilder k, Shape output, bool lanes, Action<Expr[]> body)
    {
        var index = new Expr[output.Rank];
        void Level(int d)
        {
            if (d == output.Rank) { body(index); return; }
            k.For($"i{d}", 0, output[d], lanes && d == output.Rank - 1, i => { index[d] = i; Level(d + 1); });
        }
        Level(0);
    }

    private static Expr Offset(Expr[] index, int[] strides) =>
        index.Zip(strides).Aggregate((Expr)0, (acc, p) => acc + p.First * p.Second);

    public static Kernel Add(Shape output, Shape a, Shape b, ScalarType t, KernelTarget target)
    {
        var k = new KernelBuilder();
        var x = k.Input("a", t, a.Elements);
        var z = k.Input("b", t, b.Elements);
        var y = k.Output("y", t, output.Elements);
        int[] sa = Strides(output, a), sb = Strides(output, b), sy = Strides(output, output);
        Loops(k, output, target.Vector, i => k.Store(y, Offset(i, sy), x[Offset(i, sa)] + z[Offset(i, sb)]));
        return k.BuildKernel($"add_{t.Tag()}_broadcast{target.Suffix}_{Dims(a)}_{Dims(b)}");
    }

    /// <summary>dx[j] = sum of dy over the output elements that read x[j], in output order, in the storage type from +0.</summary>
    public static Kernel Reduce(Shape output, Shape input, ScalarType t, KernelTarget target)
    {
        var k = new KernelBuilder();
        var dy = k.Input("dy", t, output.Elements);
        var dx = k.Output("dx", t, input.Elements);
        int[] sx = Strides(output, input), sy = Strides(output, output);
        k.For("j", 0, input.Elements, target.Vector, j => k.Store(dx, j, Const(0f, t)));
        // Scalar: several output elements add into the same dx element.
        Loops(k, output, false, i => k.Store(dx, Offset(i, sx), dx[Offset(i, sx)] + dy[Offset(i, sy)]));
        return k.BuildKernel($"broadcast_reduce_{t.Tag()}{target.Suffix}_{Dims(output)}_to_{Dims(input)}");
    }
}
