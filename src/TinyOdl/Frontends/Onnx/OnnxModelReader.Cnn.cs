using TinyOdl.Graph;

namespace TinyOdl.Frontends.Onnx;

/// <summary>
/// The 2-D image ops of the ONNX importer: Conv, MaxPool, AveragePool, GlobalAveragePool and inference
/// BatchNormalization on [N, C, H, W] tensors, whose per-sample [C, H, W] is TinyOdl's CHW layout
/// (docs/MODEL_FORMAT.md, "ONNX import"). Windows have dilation 1 and round their output size down (ceil_mode 0).
/// </summary>
public static partial class OnnxModelReader
{
    private sealed partial class Importer
    {
        /// <summary>Largest kernel, stride or pad the importer accepts (also keeps the window arithmetic far from overflow).</summary>
        private const int MaxWindow = 1 << 16;

        /// <summary>Input 0 of a 2-D window op: [N, C, H, W] with the batch first, i.e. a [C, H, W] sample.</summary>
        private Sym Image(OnnxNode n, string role)
        {
            var x = Dynamic(n, 0, role);
            if (!x.Batched || x.Sample.Length != 3)
                throw Fail(n, $"input {role} has shape {FullShape(x)}; {n.Op} is supported on 4-D [N, C, H, W] tensors with the batch first (2-D images)");
            return x;
        }

        /// <summary>An INTS attribute of one value per spatial axis (or per pad), each in [<paramref name="min"/>, <see cref="MaxWindow"/>].</summary>
        private int[]? Spatial(OnnxNode n, Attributes at, string name, int count, int min)
        {
            if (at.Ints(name) is not { } v) return null;
            if (v.Length != count)
                throw BadAttribute(n, name, OnnxTensors.FormatDims(v), $"it needs {count} values for a 2-D window (TinyOdl supports 2-D images only)");
            if (v.Any(d => d < min || d > MaxWindow))
                throw BadAttribute(n, name, OnnxTensors.FormatDims(v), $"each value must be between {min} and {MaxWindow}");
            return v.Select(d => (int)d).ToArray();
        }

        /// <summary>kernel_shape of a pooling op (required, two values).</summary>
        private (int H, int W) PoolKernel(OnnxNode n, Attributes at)
        {
            var k = Spatial(n, at, "kernel_shape", 2, 1) ?? throw Fail(n, "attribute 'kernel_shape' is missing");
            return (k[0], k[1]);
        }

        /// <summary>
        /// The window of a Conv or pooling node over the [C, H, W] sample <paramref name="x"/>: strides, pads or auto_pad
        /// (NOTSET, VALID, SAME_UPPER, SAME_LOWER), dilations that must be 1.
        /// </summary>
        private Window2d WindowOf(OnnxNode n, Attributes at, Sym x, int kernelH, int kernelW)
        {
            int height = x.Sample[1], width = x.Sample[2];
            if (at.Ints("dilations") is { } dilations && dilations.Any(d => d != 1))
                throw BadAttribute(n, "dilations", OnnxTensors.FormatDims(dilations), "supported: dilations=[1, 1] (TinyOdl has no dilated windows)");
            var strides = Spatial(n, at, "strides", 2, 1) ?? [1, 1];
            var pads = Spatial(n, at, "pads", 4, 0);
            string autoPad = at.String("auto_pad", "NOTSET");
            switch (autoPad)
            {
                case "NOTSET" or "":
                    pads ??= [0, 0, 0, 0];
                    break;
                case "VALID" or "SAME_UPPER" or "SAME_LOWER":
                    if (pads is not null && pads.Any(p => p != 0))
                        throw BadAttribute(n, "pads", OnnxTensors.FormatDims(pads.Select(p => (long)p)), $"explicit pads cannot be combined with auto_pad={autoPad}");
                    pads = autoPad == "VALID" ? [0, 0, 0, 0] : SamePads(autoPad == "SAME_UPPER", [height, width], [kernelH, kernelW], strides);
                    break;
                default:
                    throw BadAttribute(n, "auto_pad", autoPad, "supported: NOTSET (explicit pads), VALID, SAME_UPPER, SAME_LOWER");
            }
            var window = new Window2d(height, width, kernelH, kernelW, strides[0], strides[1], pads[0], pads[1], pads[2], pads[3]);
            if (kernelH > height + pads[0] + pads[2] || kernelW > width + pads[1] + pads[3])
                throw Fail(n, $"shape mismatch: the kernel {kernelH}x{kernelW} is larger than the padded input {height + pads[0] + pads[2]}x{width + pads[1] + pads[3]} " +
                    $"(X {FullShape(x)}, pads {OnnxTensors.FormatDims(pads.Select(p => (long)p))})");
            return window;
        }

        /// <summary>
        /// SAME padding: output size ceil(in / stride), total padding (out - 1) * stride + kernel - in split in half per
        /// axis, the odd one at the end (SAME_UPPER) or the beginning (SAME_LOWER). Returns [top, left, bottom, right].
        /// </summary>
        private static int[] SamePads(bool upper, int[] input, int[] kernel, int[] strides)
        {
            var pads = new int[4];
            for (int axis = 0; axis < 2; axis++)
            {
                long output = (input[axis] + (long)strides[axis] - 1) / strides[axis];
                int total = (int)Math.Max(0, (output - 1) * strides[axis] + kernel[axis] - input[axis]);
                int small = total / 2, large = total - small;
                pads[axis] = upper ? small : large;
                pads[axis + 2] = upper ? large : small;
            }
            return pads;
        }

        private static int[] OutputSample(int channels, Window2d w) => [channels, w.OutHeight, w.OutWidth];

        private void Conv(OnnxNode n)
        {
            var at = new Attributes(this, n, "auto_pad", "dilations", "group", "kernel_shape", "pads", "strides");
            var x = Image(n, "X");
            int channels = x.Sample[0];
            var w = Floats(n, Constant(n, 1, "W"), "W");
            if (w.Dims.Count != 4)
                throw Fail(n, $"input W {w} must be a 4-D weight [M, C/group, kH, kW]; TinyOdl supports 2-D convolutions only");
            if (w.Elements == 0) throw Fail(n, $"input W {w} has no elements");
            int outChannels = (int)w.Dims[0], perGroup = (int)w.Dims[1], kernelH = (int)w.Dims[2], kernelW = (int)w.Dims[3];
            long group = at.Int("group", 1);
            if (group < 1 || channels % group != 0 || outChannels % group != 0)
                throw BadAttribute(n, "group", group, $"group must divide the {channels} input channels of X {FullShape(x)} and the {outChannels} output channels of W {w}");
            if (perGroup * group != channels)
                throw Fail(n, $"shape mismatch: input W {w} has {perGroup} input channels per group, but X {FullShape(x)} has {channels} channels" +
                    (group == 1 ? "" : $" in {group} groups ({channels / group} per group)"));
            if (Spatial(n, at, "kernel_shape", 2, 1) is { } kernel && (kernel[0] != kernelH || kernel[1] != kernelW))
                throw BadAttribute(n, "kernel_shape", OnnxTensors.FormatDims(kernel.Select(k => (long)k)), $"it must match the kernel {kernelH}x{kernelW} of W {w}");
            if (kernelH > MaxWindow || kernelW > MaxWindow) throw Fail(n, $"input W {w}: a kernel larger than {MaxWindow} is not supported");
            var window = WindowOf(n, at, x, kernelH, kernelW);

            float[]? bias = null;
            if (n.In(2).Length > 0)
            {
                var b = Floats(n, Constant(n, 2, "B"), "B");
                if (b.Dims.Count != 1 || b.Elements != outChannels)
                    throw Fail(n, $"input B {b} must have shape [{outChannels}] (one bias per output channel)");
                bias = (float[])b.Values.Clone();
            }
            var name = NodeName(n);
            var y = Build(n, () => _builder.Conv2d(name, x.Graph, outChannels, window, (int)group, bias: bias is not null,
                weight: (float[])w.Values.Clone(), biasValues: bias));
            Define(n, 0, new Sym(y, OutputSample(outChannels, window), true));
        }

        /// <summary>MaxPool and AveragePool: one window over each channel; attributes by opset (ceil_mode since 10, ...).</summary>
        private void Pool(OnnxNode n, PoolKind kind)
        {
            string[] known = kind == PoolKind.Max
                ? Opset >= 10 ? ["auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"]
                : Opset >= 8 ? ["auto_pad", "kernel_shape", "pads", "storage_order", "strides"]
                : ["auto_pad", "kernel_shape", "pads", "strides"]
                : Opset >= 19 ? ["auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape", "pads", "strides"]
                : Opset >= 10 ? ["auto_pad", "ceil_mode", "count_include_pad", "kernel_shape", "pads", "strides"]
                : Opset >= 7 ? ["auto_pad", "count_include_pad", "kernel_shape", "pads", "strides"]
                : ["auto_pad", "kernel_shape", "pads", "strides"];
            var at = new Attributes(this, n, known);
            if (at.Int("ceil_mode", 0) is var ceil and not 0)
                throw BadAttribute(n, "ceil_mode", ceil, "supported: ceil_mode=0 (the output size is rounded down)");
            if (at.Int("storage_order", 0) is var order and not 0)
                throw BadAttribute(n, "storage_order", order, "supported: storage_order=0 (row major)");
            long includePad = at.Int("count_include_pad", 0);
            if (includePad is not (0 or 1)) throw BadAttribute(n, "count_include_pad", includePad, "supported: 0 or 1");
            var indices = n.Out(1);
            if (indices.Length > 0 && (_graphOutputs.Contains(indices) || Consumers(indices).Any()))
                throw Fail(n, $"its Indices output '{indices}' is used; only the pooled values (output 0) are supported");

            var x = Image(n, "X");
            var (kernelH, kernelW) = PoolKernel(n, at);
            var window = WindowOf(n, at, x, kernelH, kernelW);
            if (window.PadTop >= kernelH || window.PadBottom >= kernelH || window.PadLeft >= kernelW || window.PadRight >= kernelW)
                throw Fail(n, $"pads {OnnxTensors.FormatDims(new long[] { window.PadTop, window.PadLeft, window.PadBottom, window.PadRight })} must be smaller than " +
                    $"the kernel {kernelH}x{kernelW} (a window could hold only padding)");
            var y = Build(n, () => _builder.Pool(NodeName(n), x.Graph, kind, window, countIncludePad: includePad == 1));
            Define(n, 0, new Sym(y, OutputSample(x.Sample[0], window), true));
        }

        private void GlobalAveragePool(OnnxNode n)
        {
            _ = new Attributes(this, n);
            var x = Image(n, "X");
            var y = Build(n, () => _builder.GlobalAveragePool(NodeName(n), x.Graph));
            Define(n, 0, new Sym(y, [x.Sample[0], 1, 1], true));
        }

        /// <summary>
        /// Inference BatchNormalization: Y = (X - mean) / sqrt(var + epsilon) * scale + B per channel (axis 1), with scale, B,
        /// mean and var initializers. Scale and B become trainable parameters, mean and var stay frozen.
        /// </summary>
        private void BatchNormalization(OnnxNode n)
        {
            string[] known = Opset < 7 ? Legacy("epsilon", "is_test", "momentum", "spatial")
                : Opset < 9 ? ["epsilon", "momentum", "spatial"]
                : Opset < 14 ? ["epsilon", "momentum"]
                : ["epsilon", "momentum", "training_mode"];
            var at = new Attributes(this, n, known);
            if (Opset < 7 && at.Int("is_test", 0) is var isTest and not 1)
                throw BadAttribute(n, "is_test", isTest,
                    "before opset 7 BatchNormalization normalizes with the batch's own statistics unless is_test=1; export the model in eval mode (TinyOdl normalizes with the stored mean and var)");
            if (at.Int("training_mode", 0) is var training and not 0)
                throw BadAttribute(n, "training_mode", training, "supported: training_mode=0 (inference: the stored mean and var normalize); export the model in eval mode");
            if (at.Int("spatial", 1) is var spatial and not 1)
                throw BadAttribute(n, "spatial", spatial, "supported: spatial=1 (one scale, bias, mean and var per channel)");
            for (int i = 1; i < n.Proto.Output.Count; i++)
            {
                var o = n.Out(i);
                if (o.Length > 0 && (_graphOutputs.Contains(o) || Consumers(o).Any()))
                    throw Fail(n, $"its output {i} ('{o}', batch statistics of training mode) is used; only inference BatchNormalization (output Y) is supported");
            }
            float epsilon = at.Float("epsilon", 1e-5f);
            if (!(epsilon >= 0f) || !float.IsFinite(epsilon))
                throw BadAttribute(n, "epsilon", epsilon, "epsilon must be a finite number >= 0");

            var x = Dynamic(n, 0, "X");
            if (!x.Batched || x.Sample.Length < 2)
                throw Fail(n, $"input X has shape {FullShape(x)}; BatchNormalization is supported on [N, C, D1, ...] tensors with the batch first " +
                    "and at least one dimension after the channels (BatchNorm2d: [N, C, H, W])");
            int channels = x.Sample[0];
            float[] PerChannel(int index, string role)
            {
                var t = Floats(n, Constant(n, index, role), role);
                if (t.Dims.Count != 1 || t.Elements != channels)
                    throw Fail(n, $"input {role} {t} must have shape [{channels}] (one value per channel of X {FullShape(x)})");
                return (float[])t.Values.Clone();
            }
            float[] scale = PerChannel(1, "scale"), shift = PerChannel(2, "B"), mean = PerChannel(3, "mean"), variance = PerChannel(4, "var");
            var y = Build(n, () => _builder.BatchNorm(NodeName(n), x.Graph, epsilon, scale, shift, mean, variance));
            Define(n, 0, x with { Graph = y });
        }
    }
}
