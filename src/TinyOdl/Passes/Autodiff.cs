using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>
/// Compile-time reverse-mode differentiation: turns a model into the full training step.
/// Only what is needed is emitted: no weight gradient for frozen parameters, no input gradient for a node
/// whose input does not depend on any trainable parameter (the first layer's input, for one).
/// Where a node reads a value stored in another type (an fp16 layer after an fp32 one, or the f32 API input),
/// a <see cref="Cast"/> is inserted, and its gradient is cast back on the way down.
/// </summary>
public static class Autodiff
{
    /// <summary>Default of <c>im2colBudgetBytes</c>: a column matrix up to this size is worth its scratch memory.</summary>
    public const int DefaultIm2colBudgetBytes = 16 * 1024;

    /// <summary>
    /// How a convolution pass is computed (docs/NUMERICS.md, "Convolutions"; the choice never changes bits):
    /// pointwise layers multiply the input directly; others copy their taps into a column matrix when it fits in
    /// <paramref name="im2colBudgetBytes"/> (contiguous inner loops, border tests done once in the copy) and run the
    /// direct loop nest otherwise (no scratch).
    /// </summary>
    public static ConvAlgorithm ChooseAlgorithm(ConvGeometry g, DataType storage, int im2colBudgetBytes) =>
        g.IsPointwise ? ConvAlgorithm.Pointwise
        : g.ColumnElements * storage.SizeInBytes() <= im2colBudgetBytes ? ConvAlgorithm.Im2col
        : ConvAlgorithm.Direct;

    public static TrainingGraph Build(Model model, int im2colBudgetBytes = DefaultIm2colBudgetBytes)
    {
        var tensors = new List<TrainingTensor>();
        var ops = new List<TrainingOp>();
        var byValue = new Dictionary<Value, TrainingTensor>();
        var casts = new Dictionary<(Value, DataType), TrainingTensor>();
        var parameters = new Dictionary<Parameter, TrainingTensor>();
        var owner = new Dictionary<Parameter, Node>();
        var alphas = new Dictionary<BinaryLayerNode, TrainingTensor>();
        var trees = new Dictionary<BinaryLayerNode, MstForwardTensors>();
        var phmWeights = new Dictionary<PhmLayerNode, TrainingTensor>();
        var phmMixed = new Dictionary<PhmLayerNode, TrainingTensor>();

        TrainingTensor Add(string name, Shape shape, TensorRole role, DataType type)
        {
            var t = new TrainingTensor(name, shape, role, type);
            tensors.Add(t);
            return t;
        }
        TrainingTensor Of(Value v) => byValue[v];

        // The convolution passes every convolution-shaped layer (conv, binary, PHM) runs: the algorithm is chosen per
        // pass, with its column-matrix scratch, and the input gradient accumulates in a scratch of the accumulation type.
        TrainingTensor? Columns(string op, ConvGeometry g, ConvAlgorithm algorithm, DataType storage) =>
            algorithm == ConvAlgorithm.Im2col ? Add(op + "_columns", new Shape((int)g.ColumnElements), TensorRole.Scratch, storage) : null;
        ConvForward ConvForwardOp(string name, TrainingTensor x, TrainingTensor w, TrainingTensor? b, TrainingTensor y, ConvGeometry g, Precision precision)
        {
            var algorithm = ChooseAlgorithm(g, x.Type, im2colBudgetBytes);
            return new ConvForward(name, x, w, b, y, g, precision, algorithm, Columns(name, g, algorithm, x.Type));
        }
        ConvWeightGradient ConvWeightGradientOp(string name, TrainingTensor dy, TrainingTensor x, TrainingTensor dw, ConvGeometry g, Precision precision)
        {
            var algorithm = ChooseAlgorithm(g, x.Type, im2colBudgetBytes);
            return new ConvWeightGradient(name, dy, x, dw, g, precision, algorithm, Columns(name, g, algorithm, x.Type));
        }
        ConvInputGradient ConvInputGradientOp(string name, TrainingTensor dy, TrainingTensor w, TrainingTensor dx, ConvGeometry g, Precision precision, Shape input)
        {
            var accumulate = precision.Accumulation();
            return new ConvInputGradient(name, dy, w, dx, g, precision,
                accumulate == dx.Type ? null : Add(name + "_accumulator", input, TensorRole.Scratch, accumulate));
        }

        // v as the given storage type: itself, or a cast of it made once, just before its first such use.
        TrainingTensor As(Value v, DataType type)
        {
            var t = Of(v);
            if (t.Type == type) return t;
            if (!casts.TryGetValue((v, type), out var c))
            {
                c = casts[(v, type)] = Add($"{v.Name}_{type.ShortName()}", v.Shape, TensorRole.Activation, type);
                ops.Add(new Cast($"{v.Name}_to_{type.ShortName()}", Phase.Forward, t, c));
            }
            return c;
        }

        byValue[model.Input] = Add(model.Input.Name, model.Input.Shape, TensorRole.Input, DataType.Float32);
        byValue[model.Target] = Add(model.Target.Name, model.Target.Shape, TensorRole.Target, DataType.Float32);
        foreach (var p in model.Parameters)
            byValue[p.Value] = parameters[p] = Add(p.Name, p.Value.Shape, p.Trainable ? TensorRole.Parameter : TensorRole.FrozenParameter, p.Value.Type);

        // A value needs a gradient if a trainable parameter lies upstream of it.
        var needsGrad = new HashSet<Value>(model.Parameters.Where(p => p.Trainable).Select(p => p.Value));
        foreach (var node in model.Nodes)
            if (node.Inputs.Any(needsGrad.Contains))
                needsGrad.Add(node.Output);
        bool NeedsInputGradient(Value input) => needsGrad.Contains(input) && input.Kind == ValueKind.Activation;

        // Forward.
        foreach (var node in model.Nodes)
        {
            var storage = node.Precision.Storage();
            switch (node)
            {
                case LinearNode l:
                {
                    var x = As(l.Input, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    ops.Add(new LinearForward(l.Name, x, Of(l.Weight.Value), l.Bias is null ? null : Of(l.Bias.Value), y, l.Precision));
                    owner[l.Weight] = l;
                    if (l.Bias is not null) owner[l.Bias] = l;
                    break;
                }
                case ReluNode r:
                {
                    var x = As(r.Input, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    ops.Add(new ReluForward(r.Name, x, y));
                    break;
                }
                case SigmoidNode sg:
                {
                    var x = As(sg.Input, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    ops.Add(new SigmoidForward(sg.Name, x, y));
                    break;
                }
                case LeakyReluNode r:
                {
                    var x = As(r.Input, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    ops.Add(new ReluForward(r.Name, x, y, r.Slope));
                    break;
                }
                case AddNode a:
                {
                    var x1 = As(a.A, storage);
                    var x2 = As(a.B, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    ops.Add(new AddForward(a.Name, x1, x2, y, a.A.Shape, a.B.Shape, a.Output.Shape));
                    break;
                }
                case Conv2dNode c:
                {
                    var x = As(c.Input, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    var g = ConvGeometry.Of(c);
                    ops.Add(ConvForwardOp(c.Name, x, Of(c.Weight.Value), c.Bias is null ? null : Of(c.Bias.Value), y, g, c.Precision));
                    owner[c.Weight] = c;
                    if (c.Bias is not null) owner[c.Bias] = c;
                    break;
                }
                case BinaryLayerNode bl:
                {
                    var x = As(bl.Input, storage);
                    var g = bl.Geometry;
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    var wBits = Add(bl.Name + "_weight_bits", new Shape(g.OutChannels * g.Window.KernelArea * g.SignWords), TensorRole.Activation, DataType.Bits32);
                    var alpha = alphas[bl] = Add(bl.Name + "_alpha", new Shape(g.OutChannels), TensorRole.Activation, storage);
                    var xBits = Add(bl.Name + "_input_bits", new Shape(g.Window.InputPixels * g.Groups * g.SignWords), TensorRole.Activation, DataType.Bits32);
                    ops.Add(new BinarizeWeights(bl.Name + "_binarize_weights", Of(bl.Weight.Value), wBits, alpha, g, bl.Precision));
                    MstForwardTensors? mst = null;
                    if (bl.Mst is { } option)
                    {
                        TrainingTensor Ints(string what, int n, TensorRole role) => Add($"{bl.Name}_mst_{what}", new Shape(n), role, DataType.Bits32);
                        var tree = new MstTreeTensors(Ints("previous_bits", wBits.Elements, TensorRole.LayerState), Ints("built", 1, TensorRole.LayerState),
                            Ints("parent", g.OutChannels, TensorRole.LayerState), Ints("order", g.OutChannels, TensorRole.LayerState),
                            Ints("key", g.OutChannels, TensorRole.Scratch), Ints("in_tree", g.OutChannels, TensorRole.Scratch), Ints("depth", g.OutChannels, TensorRole.Scratch),
                            Ints("image", Binary.MstImage.Layout.Of(g).CapacityWords, TensorRole.LayerState),
                            Ints("image_bits", 1, TensorRole.LayerState));
                        ops.Add(new MstBuildTree(bl.Name + "_mst_tree", wBits, tree, g, option.MaxDepth));
                        mst = trees[bl] = new MstForwardTensors(tree.Parent, tree.Order, Ints("accumulators", g.OutChannels, TensorRole.Scratch));
                    }
                    ops.Add(new PackSigns(bl.Name + "_pack_input", x, xBits, g));
                    ops.Add(new XnorConvForward(bl.Name, xBits, wBits, alpha, bl.Bias is null ? null : Of(bl.Bias.Value), y, g, bl.Padding, bl.Precision, mst));
                    owner[bl.Weight] = bl;
                    if (bl.Bias is not null) owner[bl.Bias] = bl;
                    break;
                }
                case PhmLayerNode ph:
                {
                    // W is built from the factors every step and then used as the ordinary layer's weight, or never formed
                    // (the factored evaluation), whichever PhmEvaluationPlan chooses (docs/PHM.md).
                    var x = As(ph.Input, storage);
                    var g = ph.Geometry;
                    var shape = PhmShape.Of(ph);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    var b = ph.Bias is null ? null : Of(ph.Bias.Value);
                    if (PhmEvaluationPlan.For(ph, NeedsInputGradient(ph.Input)).Factored)
                    {
                        // U lives on into the backward pass: dF reads it.
                        var u = phmMixed[ph] = Add(ph.Name + "_mixed", new Shape((int)shape.MixedElements(g.Window.InputPixels)), TensorRole.Activation, ph.Precision.Accumulation());
                        ops.Add(new PhmMixInput(ph.Name + "_mix", x, Of(ph.A.Value), u, shape, g, ph.Precision));
                        var block = shape.BlockGeometry(g.Window);
                        var algorithm = ChooseAlgorithm(block, u.Type, im2colBudgetBytes);
                        ops.Add(new PhmFactoredForward(ph.Name, u, Of(ph.F.Value), b, y, shape, g, ph.Precision, algorithm, Columns(ph.Name, block, algorithm, u.Type)));
                    }
                    else
                    {
                        var w = phmWeights[ph] = Add(ph.Name + "_weight", ph is PhmConv2dNode ? new Shape(g.OutChannels, g.InChannels, g.Window.KernelH, g.Window.KernelW)
                            : new Shape(g.OutChannels, g.InChannels), TensorRole.Activation, storage);
                        ops.Add(new PhmBuildWeight(ph.Name + "_build_weight", Of(ph.A.Value), Of(ph.F.Value), w, shape, ph.Precision));
                        ops.Add(ph is PhmConv2dNode ? ConvForwardOp(ph.Name, x, w, b, y, g, ph.Precision) : new LinearForward(ph.Name, x, w, b, y, ph.Precision));
                    }
                    owner[ph.A] = owner[ph.F] = ph;
                    if (ph.Bias is not null) owner[ph.Bias] = ph;
                    break;
                }
                case PoolNode pl:
                {
                    var x = As(pl.Input, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    ops.Add(new PoolForward(pl.Name, x, y, pl.Kind, pl.Window, pl.CountIncludePad, pl.Precision));
                    break;
                }
                case BatchNormNode bn:
                {
                    var x = As(bn.Input, storage);
                    var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation, storage);
                    ops.Add(new BatchNormForward(bn.Name, x, Of(bn.Scale.Value), Of(bn.Shift.Value), Of(bn.Mean.Value), Of(bn.InvStd.Value), y, bn.Precision));
                    owner[bn.Scale] = owner[bn.Shift] = bn;
                    break;
                }
                case ReshapeNode r:
                    // A view: the same tensor under the new name; kernels index by element.
                    byValue[node.Output] = Of(r.Input);
                    break;
                default:
                    throw new NotSupportedException($"autodiff: no forward rule for {node.OpName}");
            }
        }

        // Loss and the seed gradient (computed in f32 whatever the prediction's storage; see docs/NUMERICS.md).
        var loss = byValue[model.Loss.Output] = Add(model.Loss.Output.Name, new Shape(1), TensorRole.Loss, DataType.Float32);
        var prediction = Of(model.Prediction);
        var grads = new Dictionary<Value, TrainingTensor>();
        var dPred = grads[model.Prediction] = Add("d_" + prediction.Name, prediction.Shape, TensorRole.ActivationGradient, prediction.Type);
        var kind = model.Loss switch
        {
            MseLossNode => LossKind.MeanSquaredError,
            SoftmaxCrossEntropyLossNode => LossKind.SoftmaxCrossEntropy,
            _ => throw new NotSupportedException($"autodiff: unknown loss {model.Loss.OpName}"),
        };
        var scratch = kind == LossKind.SoftmaxCrossEntropy
            ? Add(model.Loss.Name + "_exp", prediction.Shape, TensorRole.Scratch, DataType.Float32)
            : null;
        ops.Add(new LossWithGradient(model.Loss.Name, kind, prediction, Of(model.Target), loss, dPred, scratch));

        // Adds a gradient contribution for v, computed by `write` in the storage type `type` of the consumer.
        var paramGrads = new Dictionary<Parameter, TrainingTensor>();
        void Contribute(Value v, DataType type, string producer, Func<TrainingTensor, TrainingOp> write)
        {
            var primal = Of(v);
            bool first = !grads.ContainsKey(v);
            string name = first ? "d_" + v.Name : $"d_{v.Name}_from_{producer}";
            TrainingTensor part;
            if (type == primal.Type)
            {
                part = Add(name, v.Shape, TensorRole.ActivationGradient, type);
                ops.Add(write(part));
            }
            else
            {
                var inConsumerType = Add($"{name}_{type.ShortName()}", v.Shape, TensorRole.ActivationGradient, type);
                ops.Add(write(inConsumerType));
                part = Add(name, v.Shape, TensorRole.ActivationGradient, primal.Type);
                ops.Add(new Cast($"{name}_to_{primal.Type.ShortName()}", Phase.Backward, inConsumerType, part));
            }
            if (first) grads[v] = part;
            else ops.Add(new GradientAccumulate($"{producer}_accumulate_d_{v.Name}", grads[v], part));
        }

        // The update of a parameter runs as soon as its node's backward pass is done: nothing reads the parameter
        // later, and its gradient dies there, so the next layer's gradient can reuse the memory (MemoryPlan).
        // Each update reads exactly what it would at the end of the step, so the order changes no bits.
        void Update(Parameter? p)
        {
            if (p is null || !p.Trainable || !paramGrads.TryGetValue(p, out var g)) return;
            if (owner[p] is BinaryLayerNode { Bop: { } bop } bl && bl.Weight == p)
            {
                var m = Add("m_" + p.Name, p.Value.Shape, TensorRole.OptimizerState, bl.Precision.Accumulation());
                ops.Add(new BopUpdate(p.Name + "_bop", parameters[p], g, m, bop, model.Optimizer.LossScale, bl.Precision));
                return;
            }
            var v = model.Optimizer.HasMomentum ? Add("v_" + p.Name, p.Value.Shape, TensorRole.OptimizerState, p.Value.Type) : null;
            bool latentBinary = owner[p] is BinaryLayerNode b && b.Weight == p;
            ops.Add(new SgdUpdate(p.Name + "_sgd", parameters[p], g, v, model.Optimizer, owner[p].Precision, ClipToUnit: latentBinary));
        }

        // Backward, in reverse topological order.
        foreach (var node in model.Nodes.Reverse())
        {
            if (!grads.TryGetValue(node.Output, out var dy)) continue; // nothing downstream depends on it
            var storage = node.Precision.Storage();
            switch (node)
            {
                case LinearNode l:
                    if (l.Weight.Trainable)
                    {
                        var dw = paramGrads[l.Weight] = Add("d_" + l.Weight.Name, l.Weight.Value.Shape, TensorRole.ParameterGradient, l.Weight.Value.Type);
                        ops.Add(new LinearWeightGradient(l.Name + "_weight_gradient", dy, As(l.Input, storage), dw, l.Precision));
                    }
                    // Batch 1: the bias gradient is dY itself; no copy.
                    if (l.Bias is { Trainable: true }) paramGrads[l.Bias] = dy;
                    if (needsGrad.Contains(l.Input) && l.Input.Kind == ValueKind.Activation)
                        Contribute(l.Input, storage, l.Name, dx => new LinearInputGradient(l.Name + "_input_gradient", dy, Of(l.Weight.Value), dx, l.Precision));
                    Update(l.Weight);
                    Update(l.Bias);
                    break;
                case ReluNode r:
                    if (needsGrad.Contains(r.Input) && r.Input.Kind == ValueKind.Activation)
                        Contribute(r.Input, storage, r.Name, dx => new ReluBackward(r.Name + "_backward", Of(r.Output), dy, dx));
                    break;
                case SigmoidNode sg:
                    if (needsGrad.Contains(sg.Input) && sg.Input.Kind == ValueKind.Activation)
                        Contribute(sg.Input, storage, sg.Name, dx => new SigmoidBackward(sg.Name + "_backward", Of(sg.Output), dy, dx));
                    break;
                case LeakyReluNode r:
                    if (needsGrad.Contains(r.Input) && r.Input.Kind == ValueKind.Activation)
                        Contribute(r.Input, storage, r.Name, dx => new ReluBackward(r.Name + "_backward", r.Slope >= 0f ? Of(r.Output) : As(r.Input, storage), dy, dx, r.Slope));
                    break;
                case AddNode a:
                    // d(a + b)/da = d(a + b)/db = 1: each input's gradient contribution is dY itself (a copy, or a
                    // conversion when the input is stored in another type).
                    foreach (var (input, side) in new[] { (a.A, "a"), (a.B, "b") })
                        if (needsGrad.Contains(input) && input.Kind == ValueKind.Activation)
                            Contribute(input, storage, $"{a.Name}_{side}", dx => input.Shape.Equals(a.Output.Shape)
                                ? new Cast($"{a.Name}_backward_{side}", Phase.Backward, dy, dx)
                                // A broadcast operand receives the sum of dY over the dimensions it was repeated along.
                                : new BroadcastReduce($"{a.Name}_backward_{side}", dy, dx, a.Output.Shape, input.Shape));
                    break;
                case Conv2dNode c:
                {
                    var g = ConvGeometry.Of(c);
                    if (c.Weight.Trainable)
                    {
                        var dw = paramGrads[c.Weight] = Add("d_" + c.Weight.Name, c.Weight.Value.Shape, TensorRole.ParameterGradient, c.Weight.Value.Type);
                        ops.Add(ConvWeightGradientOp(c.Name + "_weight_gradient", dy, As(c.Input, storage), dw, g, c.Precision));
                    }
                    if (c.Bias is { Trainable: true })
                    {
                        var db = paramGrads[c.Bias] = Add("d_" + c.Bias.Name, c.Bias.Value.Shape, TensorRole.ParameterGradient, c.Bias.Value.Type);
                        ops.Add(new ChannelSumGradient(c.Name + "_bias_gradient", dy, db, c.Precision));
                    }
                    if (needsGrad.Contains(c.Input) && c.Input.Kind == ValueKind.Activation)
                        Contribute(c.Input, storage, c.Name, dx => ConvInputGradientOp(c.Name + "_input_gradient", dy, Of(c.Weight.Value), dx, g, c.Precision, c.Input.Shape));
                    Update(c.Weight);
                    Update(c.Bias);
                    break;
                }
                case BinaryLayerNode bl:
                {
                    // The backward passes are the ordinary convolution's, on the binarized tensors as values, with
                    // straight-through estimators around them (docs/BINARY.md).
                    var g = bl.Geometry;
                    var alpha = alphas[bl];
                    var x = As(bl.Input, storage);
                    var w = Of(bl.Weight.Value);
                    if (bl.Weight.Trainable)
                    {
                        var frame = bl.Padding == BinaryPadding.One && g.Window.HasPadding ? g.Window : null;
                        var framed = frame is null ? g : g with
                        {
                            Window = frame with { Height = frame.Height + frame.PadTop + frame.PadBottom, Width = frame.Width + frame.PadLeft + frame.PadRight, PadTop = 0, PadLeft = 0, PadBottom = 0, PadRight = 0 },
                        };
                        var signs = Add(bl.Name + "_input_signs", new Shape(g.InChannels * framed.Window.InputPixels), TensorRole.Scratch, storage);
                        ops.Add(new SignActivations(bl.Name + "_input_signs", x, signs, g.InChannels, frame));
                        var dwb = Add(bl.Name + "_binary_weight_gradient", bl.Weight.Value.Shape, TensorRole.Scratch, w.Type);
                        ops.Add(ConvWeightGradientOp(bl.Name + "_weight_gradient", dy, signs, dwb, framed, bl.Precision));
                        var dw = paramGrads[bl.Weight] = Add("d_" + bl.Weight.Name, bl.Weight.Value.Shape, TensorRole.ParameterGradient, w.Type);
                        ops.Add(new BinaryWeightGradient(bl.Name + "_weight_ste", dwb, w, alpha, dw, bl.Precision));
                        if (bl.Mst is { Regularization: > 0f } reg)
                            ops.Add(new MstRegularizer(bl.Name + "_mst_regularizer", w, trees[bl].Parent, trees[bl].Order, dw, g,
                                reg.Regularization * model.Optimizer.LossScale, bl.Precision));
                    }
                    if (bl.Bias is { Trainable: true })
                    {
                        var db = paramGrads[bl.Bias] = Add("d_" + bl.Bias.Name, bl.Bias.Value.Shape, TensorRole.ParameterGradient, bl.Bias.Value.Type);
                        ops.Add(new ChannelSumGradient(bl.Name + "_bias_gradient", dy, db, bl.Precision));
                    }
                    if (needsGrad.Contains(bl.Input) && bl.Input.Kind == ValueKind.Activation)
                    {
                        Contribute(bl.Input, storage, bl.Name, dx =>
                        {
                            var wb = Add(bl.Name + "_binary_weight", bl.Weight.Value.Shape, TensorRole.Scratch, storage);
                            ops.Add(new ScaledSignWeights(bl.Name + "_binary_weight", w, alpha, wb, bl.Precision));
                            var dSigns = Add(bl.Name + "_input_sign_gradient", bl.Input.Shape, TensorRole.Scratch, storage);
                            ops.Add(ConvInputGradientOp(bl.Name + "_input_gradient", dy, wb, dSigns, g, bl.Precision, bl.Input.Shape));
                            return new SignGradient(bl.Name + "_input_ste", x, dSigns, dx);
                        });
                    }
                    Update(bl.Weight);
                    Update(bl.Bias);
                    break;
                }
                case PhmLayerNode ph:
                {
                    var g = ph.Geometry;
                    var shape = PhmShape.Of(ph);
                    var x = As(ph.Input, storage);
                    bool conv = ph is PhmConv2dNode;
                    bool inputGradient = NeedsInputGradient(ph.Input);
                    TrainingTensor? Grad(Parameter p) => p.Trainable ? paramGrads[p] = Add("d_" + p.Name, p.Value.Shape, TensorRole.ParameterGradient, p.Value.Type) : null;
                    Func<TrainingTensor, TrainingOp> inputGradientOp;
                    if (phmMixed.TryGetValue(ph, out var u))
                    {
                        // Factored: dF from U; dU = F^T dy once, for dA and dx.
                        if (Grad(ph.F) is { } df)
                        {
                            string name = ph.Name + "_factor_gradient";
                            var block = shape.BlockGeometry(g.Window);
                            var algorithm = ChooseAlgorithm(block, u.Type, im2colBudgetBytes);
                            var accumulator = algorithm == ConvAlgorithm.Im2col && u.Type != df.Type ? Add(name + "_accumulator", df.Shape, TensorRole.Scratch, u.Type) : null;
                            ops.Add(new PhmFactorGradient(name, dy, u, df, shape, g, ph.Precision, algorithm, Columns(name, block, algorithm, u.Type), accumulator));
                        }
                        var du = ph.A.Trainable || inputGradient ? Add(ph.Name + "_mixed_gradient", u.Shape, TensorRole.Scratch, u.Type) : null;
                        if (du is not null) ops.Add(new PhmMixedGradient(ph.Name + "_mixed_gradient", dy, Of(ph.F.Value), du, shape, g, ph.Precision, inputGradient));
                        if (Grad(ph.A) is { } da) ops.Add(new PhmMixWeightGradient(ph.Name + "_mix_weight_gradient", du!, x, da, shape, g, ph.Precision));
                        inputGradientOp = dx => new PhmMixInputGradient(ph.Name + "_input_gradient", du!, Of(ph.A.Value), dx, shape, g, ph.Precision);
                    }
                    else
                    {
                        var w = phmWeights[ph];
                        if (ph.A.Trainable || ph.F.Trainable)
                        {
                            // G = dL/dW from the ordinary layer's weight gradient, then the factors' gradients from G.
                            var gw = Add(ph.Name + "_weight_gradient", w.Shape, TensorRole.Scratch, storage);
                            ops.Add(conv ? ConvWeightGradientOp(ph.Name + "_weight_gradient", dy, x, gw, g, ph.Precision)
                                : new LinearWeightGradient(ph.Name + "_weight_gradient", dy, x, gw, ph.Precision));
                            ops.Add(new PhmGradient(ph.Name + "_phm_gradient", gw, Of(ph.A.Value), Of(ph.F.Value), Grad(ph.A), Grad(ph.F), shape, ph.Precision));
                        }
                        inputGradientOp = dx => conv
                            ? ConvInputGradientOp(ph.Name + "_input_gradient", dy, w, dx, g, ph.Precision, ph.Input.Shape)
                            : new LinearInputGradient(ph.Name + "_input_gradient", dy, w, dx, ph.Precision);
                    }
                    if (ph.Bias is { Trainable: true })
                    {
                        if (conv)
                        {
                            var db = paramGrads[ph.Bias] = Add("d_" + ph.Bias.Name, ph.Bias.Value.Shape, TensorRole.ParameterGradient, ph.Bias.Value.Type);
                            ops.Add(new ChannelSumGradient(ph.Name + "_bias_gradient", dy, db, ph.Precision));
                        }
                        else paramGrads[ph.Bias] = dy;
                    }
                    if (inputGradient) Contribute(ph.Input, storage, ph.Name, inputGradientOp);
                    Update(ph.A);
                    Update(ph.F);
                    Update(ph.Bias);
                    break;
                }
                case PoolNode pl:
                    if (needsGrad.Contains(pl.Input) && pl.Input.Kind == ValueKind.Activation)
                        Contribute(pl.Input, storage, pl.Name, dx => new PoolBackward(pl.Name + "_backward", pl.Kind == PoolKind.Max ? As(pl.Input, storage) : null,
                            dy, dx, pl.Kind, pl.Window, pl.CountIncludePad, pl.Precision));
                    break;
                case BatchNormNode bn:
                    if (bn.Scale.Trainable)
                    {
                        var ds = paramGrads[bn.Scale] = Add("d_" + bn.Scale.Name, bn.Scale.Value.Shape, TensorRole.ParameterGradient, bn.Scale.Value.Type);
                        ops.Add(new BatchNormScaleGradient(bn.Name + "_scale_gradient", dy, As(bn.Input, storage), Of(bn.Mean.Value), Of(bn.InvStd.Value), ds, bn.Precision));
                    }
                    if (bn.Shift.Trainable)
                    {
                        var db = paramGrads[bn.Shift] = Add("d_" + bn.Shift.Name, bn.Shift.Value.Shape, TensorRole.ParameterGradient, bn.Shift.Value.Type);
                        ops.Add(new ChannelSumGradient(bn.Name + "_shift_gradient", dy, db, bn.Precision));
                    }
                    if (needsGrad.Contains(bn.Input) && bn.Input.Kind == ValueKind.Activation)
                        Contribute(bn.Input, storage, bn.Name, dx => new BatchNormInputGradient(bn.Name + "_input_gradient", dy, Of(bn.Scale.Value), Of(bn.InvStd.Value), dx, bn.Precision));
                    Update(bn.Scale);
                    Update(bn.Shift);
                    break;
                case ReshapeNode r:
                    // The gradient is a view too: the output's gradient tensor serves as the input's.
                    if (needsGrad.Contains(r.Input) && r.Input.Kind == ValueKind.Activation)
                    {
                        if (grads.TryGetValue(r.Input, out var existing)) ops.Add(new GradientAccumulate($"{r.Name}_accumulate_d_{r.Input.Name}", existing, dy));
                        else grads[r.Input] = dy;
                    }
                    break;
                default:
                    throw new NotSupportedException($"autodiff: no backward rule for {node.OpName}");
            }
        }


        return new TrainingGraph(model, tensors, ops, parameters, Of(model.Input), Of(model.Target), prediction, loss);
    }
}
