using TinyOdl.Passes;

namespace TinyOdl.Kernels.Lowering;

/// <summary>
/// THE lowering: training graph + memory plan -> kernel program. Each training op maps to one kernel call;
/// kernels with the same name (same op, numerics and geometry) are built once and shared. All three backends
/// (C, LLVM IR, evaluator) consume the result; none of them knows about layers or precisions.
/// </summary>
public static class TrainingLowering
{
    public static KernelProgram Lower(TrainingGraph graph, MemoryPlan plan, KernelTarget target = default)
    {
        var kernels = new Dictionary<string, Kernel>(StringComparer.Ordinal);
        Kernel Shared(Kernel k)
        {
            if (kernels.TryGetValue(k.Name, out var existing)) return existing;
            kernels[k.Name] = k;
            return k;
        }

        var buffers = new Dictionary<TrainingTensor, ProgramBuffer>();
        // Frozen parameters never change: read-only data in the program image instead of an arena slot.
        var frozen = graph.Model.Parameters.Where(p => graph.Parameters[p].Role == TensorRole.FrozenParameter)
            .ToDictionary(p => graph.Parameters[p], p => ProgramBuffer.Constant("tinyodl_frozen_" + p.Name, graph.Parameters[p].Type.ToScalar(), p.Initial, exported: true));
        foreach (var t in graph.Tensors)
            buffers[t] = frozen.TryGetValue(t, out var constant) ? constant
                : t.IsExternal
                // External buffers are the entry points' parameters; their names are the API's, not the graph's.
                ? ProgramBuffer.External(t.Role == TensorRole.Input ? "input" : "target", t.Type.ToScalar(), t.Elements)
                : ProgramBuffer.InArena(t.Name, t.Type.ToScalar(), t.Elements, plan.OffsetOf(t));
        ProgramBuffer B(TrainingTensor t) => buffers[t];
        ProgramBuffer[] Optional(TrainingTensor? t) => t is null ? [] : [buffers[t]];
        static ScalarType T(TrainingTensor t) => t.Type.ToScalar();

        KernelCall CallFor(TrainingOp op) => op switch
        {
            LinearForward f => new KernelCall(Shared(LinearLowering.Forward(f.X.Elements, f.Y.Elements, f.B is not null, Numerics.Of(f.Precision), target)),
                f.B is null ? [B(f.X), B(f.W), B(f.Y)] : [B(f.X), B(f.W), B(f.B), B(f.Y)], f.Name, (long)f.X.Elements * f.Y.Elements, Pass.Forward),
            LinearInputGradient g => new KernelCall(Shared(LinearLowering.InputGradient(g.DX.Elements, g.DY.Elements, Numerics.Of(g.Precision), target)),
                [B(g.DY), B(g.W), B(g.DX)], g.Name, (long)g.DX.Elements * g.DY.Elements, Pass.InputGradient),
            LinearWeightGradient g => new KernelCall(Shared(LinearLowering.WeightGradient(g.X.Elements, g.DY.Elements, T(g.DW), target)),
                [B(g.DY), B(g.X), B(g.DW)], g.Name, (long)g.X.Elements * g.DY.Elements, Pass.WeightGradient),
            ReluForward r => new KernelCall(Shared(ElementwiseLowering.ReluForward(r.X.Elements, T(r.Y), r.Slope, target)), [B(r.X), B(r.Y)], r.Name, 0, Pass.Forward),
            ReluBackward r => new KernelCall(Shared(ElementwiseLowering.ReluBackward(r.X.Elements, T(r.DX), r.Slope, target)), [B(r.X), B(r.DY), B(r.DX)], r.Name, 0, Pass.InputGradient),
            SigmoidForward sg => new KernelCall(Shared(ElementwiseLowering.SigmoidForward(sg.X.Elements, T(sg.Y))), [B(sg.X), B(sg.Y)], sg.Name, 0, Pass.Forward),
            SigmoidBackward sg => new KernelCall(Shared(ElementwiseLowering.SigmoidBackward(sg.Y.Elements, T(sg.Y))), [B(sg.Y), B(sg.DY), B(sg.DX)], sg.Name, 0, Pass.InputGradient),
            AddForward a => new KernelCall(Shared(a.AShape.Equals(a.YShape) && a.BShape.Equals(a.YShape)
                    ? ElementwiseLowering.Add(a.Y.Elements, T(a.Y), target)
                    : BroadcastLowering.Add(a.YShape, a.AShape, a.BShape, T(a.Y), target)), [B(a.A), B(a.B), B(a.Y)], a.Name, 0, Pass.Forward),
            BroadcastReduce r => new KernelCall(Shared(BroadcastLowering.Reduce(r.OutShape, r.InShape, T(r.DX), target)), [B(r.DY), B(r.DX)], r.Name, 0, Pass.InputGradient),
            GradientAccumulate a => new KernelCall(Shared(ElementwiseLowering.AccumulateInPlace(a.Acc.Elements, T(a.Acc), target)), [B(a.Acc), B(a.Addend)], a.Name, 0, Pass.Backward),
            Cast c => new KernelCall(Shared(ElementwiseLowering.Convert(c.X.Elements, T(c.X), T(c.Y), target)), [B(c.X), B(c.Y)], c.Name, 0,
                c.Phase == Phase.Forward ? Pass.Forward : Pass.Backward),
            LossWithGradient { Kind: LossKind.MeanSquaredError } l => new KernelCall(Shared(LossLowering.MeanSquaredError(l.Prediction.Elements, T(l.Prediction), graph.Model.Optimizer.LossScale)),
                [B(l.Prediction), B(l.Target), B(l.Loss), B(l.DPrediction)], l.Name, 0, Pass.Loss),
            LossWithGradient l => new KernelCall(Shared(LossLowering.SoftmaxCrossEntropy(l.Prediction.Elements, T(l.Prediction), graph.Model.Optimizer.LossScale)),
                [B(l.Prediction), B(l.Target), B(l.Loss), B(l.DPrediction), B(l.Scratch!)], l.Name, 0, Pass.Loss),
            SgdUpdate s => new KernelCall(Shared(SgdLowering.Update(s.Param.Elements, s.Optimizer, Numerics.Of(s.Precision), target, s.ClipToUnit)),
                s.Velocity is null ? [B(s.Param), B(s.Grad)] : [B(s.Param), B(s.Grad), B(s.Velocity)], s.Name, 0, Pass.Update),
            BopUpdate bu => new KernelCall(Shared(BopLowering.Update(bu.Param.Elements, bu.Option, bu.LossScale, Numerics.Of(bu.Precision), target)),
                [B(bu.Param), B(bu.Grad), B(bu.Momentum)], bu.Name, 0, Pass.Update),
            ConvForward c => new KernelCall(Shared(ConvLowering.Forward(c.Geometry, c.B is not null, Numerics.Of(c.Precision), c.Algorithm, target)),
                [B(c.X), B(c.W), .. Optional(c.B), B(c.Y), .. Optional(c.Columns)], c.Name, c.Geometry.Macs, Pass.Forward),
            ConvWeightGradient c => new KernelCall(Shared(ConvLowering.WeightGradient(c.Geometry, Numerics.Of(c.Precision), c.Algorithm, target)),
                [B(c.DY), B(c.X), B(c.DW), .. Optional(c.Columns)], c.Name, c.Geometry.Macs, Pass.WeightGradient),
            ConvInputGradient c => new KernelCall(Shared(ConvLowering.InputGradient(c.Geometry, Numerics.Of(c.Precision), target)),
                [B(c.DY), B(c.W), B(c.DX), .. Optional(c.Accumulator)], c.Name, c.Geometry.Macs, Pass.InputGradient),
            ChannelSumGradient c => new KernelCall(Shared(ConvLowering.ChannelSum(c.DB.Elements, c.DY.Elements / c.DB.Elements, Numerics.Of(c.Precision), target)),
                [B(c.DY), B(c.DB)], c.Name, 0, Pass.WeightGradient),
            PoolForward pf => new KernelCall(Shared(PoolLowering.Forward(pf.X.Elements / pf.Window.InputPixels, pf.Window, pf.Kind, pf.CountIncludePad, Numerics.Of(pf.Precision), target)),
                [B(pf.X), B(pf.Y)], pf.Name, 0, Pass.Forward),
            PoolBackward pb => new KernelCall(Shared(PoolLowering.Backward(pb.DX.Elements / pb.Window.InputPixels, pb.Window, pb.Kind, pb.CountIncludePad, Numerics.Of(pb.Precision), target)),
                [.. Optional(pb.X), B(pb.DY), B(pb.DX)], pb.Name, 0, Pass.InputGradient),
            BatchNormForward bn => new KernelCall(Shared(BatchNormLowering.Forward(bn.Scale.Elements, bn.X.Elements / bn.Scale.Elements, Numerics.Of(bn.Precision), target)),
                [B(bn.X), B(bn.Scale), B(bn.Shift), B(bn.Mean), B(bn.InvStd), B(bn.Y)], bn.Name, bn.X.Elements, Pass.Forward),
            BatchNormScaleGradient bn => new KernelCall(Shared(BatchNormLowering.ScaleGradient(bn.DScale.Elements, bn.X.Elements / bn.DScale.Elements, Numerics.Of(bn.Precision), target)),
                [B(bn.DY), B(bn.X), B(bn.Mean), B(bn.InvStd), B(bn.DScale)], bn.Name, bn.X.Elements, Pass.WeightGradient),
            BatchNormInputGradient bn => new KernelCall(Shared(BatchNormLowering.InputGradient(bn.Scale.Elements, bn.DX.Elements / bn.Scale.Elements, Numerics.Of(bn.Precision), target)),
                [B(bn.DY), B(bn.Scale), B(bn.InvStd), B(bn.DX)], bn.Name, 0, Pass.InputGradient),
            BinarizeWeights bw => new KernelCall(Shared(BinaryLowering.BinarizeWeights(bw.Geometry, Numerics.Of(bw.Precision))),
                [B(bw.W), B(bw.Bits), B(bw.Alpha)], bw.Name, 0, Pass.Forward),
            PackSigns ps => new KernelCall(Shared(BinaryLowering.PackSigns(ps.Geometry, T(ps.X))), [B(ps.X), B(ps.Bits)], ps.Name, 0, Pass.Forward),
            XnorConvForward { Mst: null } xc => new KernelCall(Shared(BinaryLowering.XnorForward(xc.Geometry, xc.B is not null, xc.Padding, Numerics.Of(xc.Precision))),
                [B(xc.XBits), B(xc.WBits), B(xc.Alpha), .. Optional(xc.B), B(xc.Y)], xc.Name, xc.Geometry.Macs, Pass.Forward, BitMacs: true),
            XnorConvForward xc => new KernelCall(Shared(MstLowering.Forward(xc.Geometry, xc.B is not null, xc.Padding, Numerics.Of(xc.Precision))),
                [B(xc.XBits), B(xc.WBits), B(xc.Alpha), .. Optional(xc.B), B(xc.Mst.Parent), B(xc.Mst.Order), B(xc.Y), B(xc.Mst.Accumulators)],
                xc.Name, xc.Geometry.Macs, Pass.Forward, BitMacs: true),
            PhmBuildWeight pb => new KernelCall(Shared(PhmLowering.BuildWeight(pb.Shape, Numerics.Of(pb.Precision))), [B(pb.A), B(pb.F), B(pb.W)],
                pb.Name, pb.Shape.BuildMacs, Pass.Forward),
            PhmGradient pg => new KernelCall(Shared(PhmLowering.Gradient(pg.Shape, pg.DA is not null, pg.DF is not null, Numerics.Of(pg.Precision))),
                [B(pg.G), .. pg.DF is null ? [] : new[] { B(pg.A) }, .. pg.DA is null ? [] : new[] { B(pg.F) }, .. Optional(pg.DA), .. Optional(pg.DF)], pg.Name,
                (pg.DA is null ? 0 : pg.Shape.BuildMacs) + (pg.DF is null ? 0 : pg.Shape.BuildMacs), Pass.WeightGradient),
            PhmMixInput pm => new KernelCall(Shared(PhmLowering.MixInput(pm.Shape, pm.Geometry, Numerics.Of(pm.Precision))), [B(pm.X), B(pm.A), B(pm.U)],
                pm.Name, pm.Shape.MixMacs(pm.Geometry.Window.InputPixels), Pass.Forward),
            PhmFactoredForward pf => new KernelCall(Shared(PhmLowering.FactoredForward(pf.Shape, pf.Geometry, pf.B is not null, Numerics.Of(pf.Precision), pf.Algorithm, target)),
                [B(pf.U), B(pf.F), .. Optional(pf.B), B(pf.Y), .. Optional(pf.Columns)], pf.Name, pf.Geometry.Macs, Pass.Forward),
            PhmFactorGradient pf => new KernelCall(Shared(PhmLowering.FactorGradient(pf.Shape, pf.Geometry, Numerics.Of(pf.Precision), pf.Algorithm, target)),
                [B(pf.DY), B(pf.U), B(pf.DF), .. Optional(pf.Columns), .. Optional(pf.Accumulator)], pf.Name, pf.Geometry.Macs, Pass.WeightGradient),
            PhmMixedGradient pm => new KernelCall(Shared(PhmLowering.MixedGradient(pm.Shape, pm.Geometry, Numerics.Of(pm.Precision))), [B(pm.DY), B(pm.F), B(pm.DU)],
                pm.Name, pm.Geometry.Macs, pm.ForInput ? Pass.InputGradient : Pass.WeightGradient),
            PhmMixWeightGradient pm => new KernelCall(Shared(PhmLowering.MixWeightGradient(pm.Shape, pm.Geometry, Numerics.Of(pm.Precision))), [B(pm.DU), B(pm.X), B(pm.DA)],
                pm.Name, pm.Shape.MixMacs(pm.Geometry.Window.InputPixels), Pass.WeightGradient),
            PhmMixInputGradient pm => new KernelCall(Shared(PhmLowering.MixInputGradient(pm.Shape, pm.Geometry, Numerics.Of(pm.Precision))), [B(pm.DU), B(pm.A), B(pm.DX)],
                pm.Name, pm.Shape.MixMacs(pm.Geometry.Window.InputPixels), Pass.InputGradient),
            MstRegularizer mr => new KernelCall(Shared(MstLowering.RegularizerGradient(mr.Geometry, mr.Lambda, Numerics.Of(mr.Precision))),
                [B(mr.W), B(mr.Parent), B(mr.Order), B(mr.DW)], mr.Name, 0, Pass.WeightGradient),
            MstBuildTree mb => new KernelCall(Shared(MstLowering.BuildTree(mb.Geometry, mb.MaxDepth)),
                [B(mb.WBits), B(mb.Tree.PreviousBits), B(mb.Tree.Built), B(mb.Tree.Parent), B(mb.Tree.Order), B(mb.Tree.Key), B(mb.Tree.InTree), B(mb.Tree.Depth),
                    B(mb.Tree.Image), B(mb.Tree.ImageBits)],
                mb.Name, 0, Pass.Forward),
            SignActivations sa => new KernelCall(Shared(BinaryLowering.Signs(sa.Channels, SignWindow(sa), sa.OnesFrame, T(sa.Y), target)), [B(sa.X), B(sa.Y)], sa.Name, 0, Pass.WeightGradient),
            ScaledSignWeights ss => new KernelCall(Shared(BinaryLowering.ScaledSigns(ss.Alpha.Elements, ss.W.Elements / ss.Alpha.Elements, T(ss.Y), target)),
                [B(ss.W), B(ss.Alpha), B(ss.Y)], ss.Name, 0, Pass.InputGradient),
            BinaryWeightGradient bg => new KernelCall(Shared(BinaryLowering.WeightGradient(bg.Alpha.Elements, bg.W.Elements / bg.Alpha.Elements, Numerics.Of(bg.Precision), target)),
                [B(bg.DWb), B(bg.W), B(bg.Alpha), B(bg.DW)], bg.Name, 0, Pass.WeightGradient),
            SignGradient sg => new KernelCall(Shared(BinaryLowering.SignGradient(sg.X.Elements, T(sg.X), target)), [B(sg.X), B(sg.DY), B(sg.DX)], sg.Name, 0, Pass.InputGradient),
            _ => throw new NotSupportedException($"lowering: no kernel for {op.GetType().Name}"),
        };

        // Signs of a [C, H, W] (or flat) activation: its plane as a window, for the framed (one-padding) layout.
        static Graph.Window2d SignWindow(SignActivations sa) => sa.OnesFrame is { } f
            ? new Graph.Window2d(f.Height, f.Width, 1, 1)
            : new Graph.Window2d(1, sa.X.Elements / sa.Channels, 1, 1);

        var input = B(graph.Input);
        var targetBuffer = B(graph.Target);
        var output = ProgramBuffer.External("output", ScalarType.F32, graph.Prediction.Elements);

        // init: parameters from their exact initial values, optimizer state zeroed.
        var constants = new List<ProgramBuffer>();
        var initCalls = new List<KernelCall>();
        foreach (var param in graph.Model.Parameters)
        {
            var tensor = graph.Parameters[param];
            if (tensor.Role == TensorRole.FrozenParameter) continue;
            var c = ProgramBuffer.Constant(tensor.Name + "_init", T(tensor), param.Initial);
            constants.Add(c);
            initCalls.Add(new KernelCall(Shared(ElementwiseLowering.Convert(tensor.Elements, T(tensor), T(tensor), target)), [c, B(tensor)], $"{tensor.Name} = initial value"));
        }
        foreach (var t in graph.Tensors.Where(t => t.Role is TensorRole.OptimizerState or TensorRole.LayerState))
            initCalls.Add(new KernelCall(Shared(ElementwiseLowering.FillZero(t.Elements, T(t), target)), [B(t)], $"{t.Name} = 0"));

        var trainCalls = graph.Ops.Select(CallFor).ToArray();
        var predictCalls = graph.ForwardOps.Select(CallFor)
            .Append(new KernelCall(Shared(ElementwiseLowering.Convert(graph.Prediction.Elements, T(graph.Prediction), ScalarType.F32, target)),
                [B(graph.Prediction), output], "output = prediction"))
            .ToArray();

        // Layer state (binary layers' MST trees) joins the table, so hosts and the harness can read the device's tree.
        var parameters = graph.Model.Parameters.Select(p => new ParameterView(p.Name, B(graph.Parameters[p])))
            .Concat(graph.Tensors.Where(t => t.Role == TensorRole.LayerState).Select(t => new ParameterView(t.Name, B(t)))).ToArray();
        return new KernelProgram(
            graph.Model.Name, plan.ArenaBytes,
            buffers.Values.Concat(constants).Append(output).ToArray(),
            new EntryPoint("init", [], initCalls, null),
            new EntryPoint("train_step", [input, targetBuffer], trainCalls, B(graph.Loss)),
            new EntryPoint("predict", [input, output], predictCalls, null),
            parameters, graph.Input.Elements, graph.Target.Elements, graph.Prediction.Elements);
    }
}
