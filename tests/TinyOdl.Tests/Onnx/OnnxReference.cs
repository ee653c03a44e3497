using System.Buffers.Binary;
using Onnx;

namespace TinyOdl.Tests.Onnx;

/// <summary>A tensor of the float64 reference: ONNX shape (batch included) and row-major values.</summary>
internal sealed record RefTensor(long[] Dims, double[] Data)
{
    public static RefTensor Of(long[] dims, IEnumerable<float> values) => new(dims, values.Select(v => (double)v).ToArray());
    public int Count => Data.Length;
}

/// <summary>
/// A float64 interpreter of ONNX semantics for the ops the importer supports, written from the ONNX operator specs
/// and independent of the importer: whole tensors with their batch dimension, numpy broadcasting, opset-dependent
/// Softmax axes. It is the oracle the compiled (float32, batch 1) model is compared with.
/// </summary>
internal static class OnnxReference
{
    public static Dictionary<string, RefTensor> Run(ModelProto model, IReadOnlyDictionary<string, RefTensor> inputs)
    {
        long opset = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(1).Max();
        var env = new Dictionary<string, RefTensor>(inputs);
        foreach (var t in model.Graph.Initializer) env[t.Name] = FromProto(t);
        // Only the nodes the outputs depend on (dead nodes may be ops the reference does not know).
        var needed = model.Graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var n in model.Graph.Node.Reverse())
            if (n.Output.Any(needed.Contains)) needed.UnionWith(n.Input);
        foreach (var n in model.Graph.Node.Where(n => n.Output.Any(needed.Contains)))
        {
            RefTensor In(int i) => env[n.Input[i]];
            bool Has(int i) => i < n.Input.Count && n.Input[i].Length > 0;
            AttributeProto? A(string name) => n.Attribute.FirstOrDefault(a => a.Name == name);
            long I(string name, long d) => A(name)?.I ?? d;
            float F(string name, float d) => A(name) is { } a ? a.F : d;
            long[]? Ints(string name) => A(name)?.Ints.ToArray();
            Window Win(long[] kernel) => new(kernel, Ints("strides"), Ints("pads"), A("auto_pad")?.S.ToStringUtf8() ?? "NOTSET");
            RefTensor y = n.OpType switch
            {
                "Gemm" => Gemm(In(0), In(1), Has(2) ? In(2) : null, F("alpha", 1), F("beta", 1), I("transA", 0) != 0, I("transB", 0) != 0),
                "MatMul" => MatMul(In(0), In(1)),
                "Add" => Broadcast(In(0), In(1), (a, b) => a + b),
                "Conv" => Conv(In(0), In(1), Has(2) ? In(2) : null, Win(Ints("kernel_shape") ?? In(1).Dims[2..]), I("group", 1)),
                "MaxPool" => Pool(In(0), Win(Ints("kernel_shape")!), max: true, includePad: false),
                "AveragePool" => Pool(In(0), Win(Ints("kernel_shape")!), max: false, includePad: I("count_include_pad", 0) != 0),
                "GlobalAveragePool" => Pool(In(0), new Window(In(0).Dims[2..], null, null, "VALID"), max: false, includePad: false),
                "BatchNormalization" => BatchNorm(In(0), In(1), In(2), In(3), In(4), F("epsilon", 1e-5f)),
                "Relu" => Map(In(0), v => v > 0 ? v : 0),
                "LeakyRelu" => Map(In(0), v => v > 0 ? v : F("alpha", 0.01f) * v),
                "Sigmoid" => Map(In(0), v => 1 / (1 + Math.Exp(-v))),
                "Identity" or "Dropout" => In(0),
                "Flatten" => Flatten(In(0), I("axis", 1)),
                "Reshape" => Reshape(In(0), opset < 5 ? A("shape")!.Ints.ToArray() : FromProtoInt64(In(1))),
                "Constant" => FromProto(A("value")!.T),
                "Transpose" => Transpose(In(0), A("perm")?.Ints.ToArray()),
                "Softmax" => Softmax(In(0), I("axis", opset < 13 ? 1 : -1), opset, log: false),
                "LogSoftmax" => Softmax(In(0), I("axis", opset < 13 ? 1 : -1), opset, log: true),
                _ => throw new NotSupportedException($"reference has no {n.OpType}"),
            };
            env[n.Output[0]] = y;
        }
        return model.Graph.Output.ToDictionary(o => o.Name, o => env[o.Name]);
    }

    public static RefTensor FromProto(TensorProto t)
    {
        long n = t.Dims.Aggregate(1L, (a, b) => a * b);
        double[] data = t.RawData.IsEmpty
            ? t.FloatData.Select(v => (double)v).ToArray()
            : Enumerable.Range(0, (int)n).Select(i => (double)BinaryPrimitives.ReadSingleLittleEndian(t.RawData.Span.Slice(i * 4, 4))).ToArray();
        if (t.DataType == (int)TensorProto.Types.DataType.Int64)
            data = (t.RawData.IsEmpty ? t.Int64Data.ToArray() : Enumerable.Range(0, (int)n).Select(i => BinaryPrimitives.ReadInt64LittleEndian(t.RawData.Span.Slice(i * 8, 8))).ToArray())
                .Select(v => (double)v).ToArray();
        return new RefTensor(t.Dims.ToArray(), data);
    }

    private static long[] FromProtoInt64(RefTensor t) => t.Data.Select(v => (long)v).ToArray();

    private static RefTensor Map(RefTensor x, Func<double, double> f) => x with { Data = x.Data.Select(f).ToArray() };

    private static RefTensor Gemm(RefTensor a, RefTensor b, RefTensor? c, double alpha, double beta, bool transA, bool transB)
    {
        if (transA) a = Transpose(a, null);
        if (transB) b = Transpose(b, null);
        var ab = MatMul(a, b);
        ab = Map(ab, v => alpha * v);
        return c is null ? ab : Broadcast(ab, Map(c, v => beta * v), (x, y) => x + y);
    }

    /// <summary>[M, K] x [K, N] or [K] x [K, N].</summary>
    private static RefTensor MatMul(RefTensor a, RefTensor b)
    {
        bool vector = a.Dims.Length == 1;
        long m = vector ? 1 : a.Dims[0], k = a.Dims[^1], n = b.Dims[1];
        if (b.Dims[0] != k) throw new ArgumentException("MatMul shapes");
        var y = new double[m * n];
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++)
            {
                double s = 0;
                for (long p = 0; p < k; p++) s += a.Data[i * k + p] * b.Data[p * n + j];
                y[i * n + j] = s;
            }
        return new RefTensor(vector ? [n] : [m, n], y);
    }

    /// <summary>Numpy (multidirectional) broadcasting.</summary>
    private static RefTensor Broadcast(RefTensor a, RefTensor b, Func<double, double, double> f)
    {
        int rank = Math.Max(a.Dims.Length, b.Dims.Length);
        long[] Pad(long[] d) => Enumerable.Repeat(1L, rank - d.Length).Concat(d).ToArray();
        long[] da = Pad(a.Dims), db = Pad(b.Dims);
        var dims = da.Zip(db, (x, y) => x == 1 ? y : y == 1 ? x : x == y ? x : throw new ArgumentException("broadcast")).ToArray();
        long count = dims.Aggregate(1L, (x, y) => x * y);
        var result = new double[count];
        var idx = new long[rank];
        for (long flat = 0; flat < count; flat++)
        {
            long r = flat;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = r % dims[d]; r /= dims[d]; }
            long ia = 0, ib = 0;
            for (int d = 0; d < rank; d++)
            {
                ia = ia * da[d] + (da[d] == 1 ? 0 : idx[d]);
                ib = ib * db[d] + (db[d] == 1 ? 0 : idx[d]);
            }
            result[flat] = f(a.Data[ia], b.Data[ib]);
        }
        return new RefTensor(dims, result);
    }

    /// <summary>A 2-D window: kernel, strides (default 1), pads [top, left, bottom, right] or auto_pad.</summary>
    private sealed record Window(long[] Kernel, long[]? Strides, long[]? Pads, string AutoPad)
    {
        public long Stride(int axis) => Strides?[axis] ?? 1;

        /// <summary>Padding before each axis and the output size, from the ONNX Conv/pooling shape rules (ceil_mode 0).</summary>
        public (long Begin, long Out) Axis(int axis, long input)
        {
            long k = Kernel[axis], s = Stride(axis);
            switch (AutoPad)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                {
                    long output = (input + s - 1) / s;
                    long total = Math.Max(0, (output - 1) * s + k - input);
                    return (AutoPad == "SAME_UPPER" ? total / 2 : total - total / 2, output);
                }
                case "VALID": return (0, (input - k) / s + 1);
                default:
                {
                    long begin = Pads?[axis] ?? 0, end = Pads?[axis + 2] ?? 0;
                    return (begin, (input + begin + end - k) / s + 1);
                }
            }
        }
    }

    /// <summary>Y[n, m, oh, ow] = B[m] + sum over the group's channels and the kernel of X (zero outside) * W.</summary>
    private static RefTensor Conv(RefTensor x, RefTensor w, RefTensor? b, Window win, long group)
    {
        long n = x.Dims[0], c = x.Dims[1], h = x.Dims[2], wd = x.Dims[3], m = w.Dims[0], cg = w.Dims[1], kh = w.Dims[2], kw = w.Dims[3];
        if (cg * group != c) throw new ArgumentException("Conv channels");
        var (top, oh) = win.Axis(0, h);
        var (left, ow) = win.Axis(1, wd);
        var y = new double[n * m * oh * ow];
        for (long s = 0; s < n; s++)
            for (long o = 0; o < m; o++)
            {
                long g = o / (m / group);
                for (long r = 0; r < oh; r++)
                    for (long q = 0; q < ow; q++)
                    {
                        double sum = b?.Data[o] ?? 0;
                        for (long ci = 0; ci < cg; ci++)
                            for (long i = 0; i < kh; i++)
                                for (long j = 0; j < kw; j++)
                                {
                                    long row = r * win.Stride(0) - top + i, col = q * win.Stride(1) - left + j;
                                    if (row < 0 || row >= h || col < 0 || col >= wd) continue;
                                    sum += x.Data[((s * c + g * cg + ci) * h + row) * wd + col] * w.Data[((o * cg + ci) * kh + i) * kw + j];
                                }
                        y[((s * m + o) * oh + r) * ow + q] = sum;
                    }
            }
        return new RefTensor([n, m, oh, ow], y);
    }

    /// <summary>Max (padding never wins) or average (over the taps inside the input, or the whole kernel with count_include_pad).</summary>
    private static RefTensor Pool(RefTensor x, Window win, bool max, bool includePad)
    {
        long n = x.Dims[0], c = x.Dims[1], h = x.Dims[2], wd = x.Dims[3], kh = win.Kernel[0], kw = win.Kernel[1];
        var (top, oh) = win.Axis(0, h);
        var (left, ow) = win.Axis(1, wd);
        var y = new double[n * c * oh * ow];
        for (long p = 0; p < n * c; p++)
            for (long r = 0; r < oh; r++)
                for (long q = 0; q < ow; q++)
                {
                    double best = double.NegativeInfinity, sum = 0;
                    long inside = 0;
                    for (long i = 0; i < kh; i++)
                        for (long j = 0; j < kw; j++)
                        {
                            long row = r * win.Stride(0) - top + i, col = q * win.Stride(1) - left + j;
                            if (row < 0 || row >= h || col < 0 || col >= wd) continue;
                            double v = x.Data[(p * h + row) * wd + col];
                            best = Math.Max(best, v);
                            sum += v;
                            inside++;
                        }
                    y[(p * oh + r) * ow + q] = max ? best : sum / (includePad ? kh * kw : inside);
                }
        return new RefTensor([n, c, oh, ow], y);
    }

    /// <summary>Inference batch normalization over axis 1: (x - mean) / sqrt(var + epsilon) * scale + bias.</summary>
    private static RefTensor BatchNorm(RefTensor x, RefTensor scale, RefTensor bias, RefTensor mean, RefTensor variance, double epsilon)
    {
        long c = x.Dims[1], inner = x.Dims.Skip(2).Aggregate(1L, (a, b) => a * b);
        var y = new double[x.Count];
        for (long i = 0; i < x.Count; i++)
        {
            long ch = i / inner % c;
            y[i] = (x.Data[i] - mean.Data[ch]) / Math.Sqrt(variance.Data[ch] + epsilon) * scale.Data[ch] + bias.Data[ch];
        }
        return x with { Data = y };
    }

    private static RefTensor Flatten(RefTensor x, long axis)
    {
        if (axis < 0) axis += x.Dims.Length;
        long outer = x.Dims.Take((int)axis).Aggregate(1L, (a, b) => a * b);
        return x with { Dims = [outer, x.Count / outer] };
    }

    private static RefTensor Reshape(RefTensor x, long[] shape)
    {
        var dims = shape.Select((d, i) => d == 0 ? x.Dims[i] : d).ToArray();
        int infer = Array.IndexOf(dims, -1L);
        if (infer >= 0) dims[infer] = x.Count / dims.Where(d => d != -1).Aggregate(1L, (a, b) => a * b);
        return x with { Dims = dims };
    }

    private static RefTensor Transpose(RefTensor x, long[]? perm)
    {
        int rank = x.Dims.Length;
        perm ??= Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        var dims = perm.Select(p => x.Dims[p]).ToArray();
        var result = new double[x.Count];
        var idx = new long[rank];
        for (long flat = 0; flat < x.Count; flat++)
        {
            long r = flat;
            for (int d = rank - 1; d >= 0; d--) { idx[d] = r % x.Dims[d]; r /= x.Dims[d]; }
            long o = 0;
            for (int d = 0; d < rank; d++) o = o * dims[d] + idx[perm[d]];
            result[o] = x.Data[flat];
        }
        return new RefTensor(dims, result);
    }

    /// <summary>Before opset 13: softmax over the 2-D view [d0..d(axis-1), d(axis)..]; since 13: along one axis.</summary>
    private static RefTensor Softmax(RefTensor x, long axis, long opset, bool log)
    {
        int rank = x.Dims.Length;
        if (axis < 0) axis += rank;
        long inner = opset < 13 ? x.Dims.Skip((int)axis).Aggregate(1L, (a, b) => a * b) : x.Dims.Skip((int)axis + 1).Aggregate(1L, (a, b) => a * b);
        long len = opset < 13 ? inner : x.Dims[axis];
        long groups = x.Count / len;
        var y = new double[x.Count];
        for (long g = 0; g < groups; g++)
        {
            long outer = opset < 13 ? g : g / inner, within = opset < 13 ? 0 : g % inner;
            long Index(long i) => opset < 13 ? outer * len + i : (outer * len + i) * inner + within;
            double max = double.NegativeInfinity;
            for (long i = 0; i < len; i++) max = Math.Max(max, x.Data[Index(i)]);
            double sum = 0;
            for (long i = 0; i < len; i++) sum += Math.Exp(x.Data[Index(i)] - max);
            for (long i = 0; i < len; i++)
                y[Index(i)] = log ? x.Data[Index(i)] - max - Math.Log(sum) : Math.Exp(x.Data[Index(i)] - max) / sum;
        }
        return x with { Data = y };
    }

    /// <summary>Softmax or log-softmax of one vector, in float64 (applies a final op the importer folded into the loss).</summary>
    public static double[] SoftmaxOf(IReadOnlyList<double> v, bool log)
    {
        double max = v.Max(), sum = v.Sum(x => Math.Exp(x - max));
        return v.Select(x => log ? x - max - Math.Log(sum) : Math.Exp(x - max) / sum).ToArray();
    }
}
