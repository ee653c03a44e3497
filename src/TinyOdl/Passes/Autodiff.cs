using TinyOdl.Graph;

namespace TinyOdl.Passes;

/// <summary>
/// Compile-time reverse-mode differentiation: turns a model into the full training step.
/// Only what is needed is emitted: no weight gradient for frozen parameters, no input gradient for a node
/// whose input does not depend on any trainable parameter (the first layer's input, for one).
/// </summary>
public static class Autodiff
{
    public static TrainingGraph Build(Model model)
    {
        var tensors = new List<TrainingTensor>();
        var ops = new List<TrainingOp>();
        var byValue = new Dictionary<Value, TrainingTensor>();
        var parameters = new Dictionary<Parameter, TrainingTensor>();

        TrainingTensor Add(string name, Shape shape, TensorRole role)
        {
            var t = new TrainingTensor(name, shape, role);
            tensors.Add(t);
            return t;
        }
        TrainingTensor Of(Value v) => byValue[v];

        byValue[model.Input] = Add(model.Input.Name, model.Input.Shape, TensorRole.Input);
        byValue[model.Target] = Add(model.Target.Name, model.Target.Shape, TensorRole.Target);
        foreach (var p in model.Parameters)
            byValue[p.Value] = parameters[p] = Add(p.Name, p.Value.Shape, TensorRole.Parameter);

        // Forward.
        foreach (var node in model.Nodes)
        {
            var y = byValue[node.Output] = Add(node.Output.Name, node.Output.Shape, TensorRole.Activation);
            ops.Add(node switch
            {
                LinearNode l => new LinearForward(l.Name, Of(l.Input), Of(l.Weight.Value), l.Bias is null ? null : Of(l.Bias.Value), y),
                ReluNode r => new ReluForward(r.Name, Of(r.Input), y),
                _ => throw new NotSupportedException($"autodiff: no forward rule for {node.OpName}"),
            });
        }

        // Loss and the seed gradient.
        var loss = byValue[model.Loss.Output] = Add(model.Loss.Output.Name, new Shape(1), TensorRole.Loss);
        var prediction = Of(model.Prediction);
        var grads = new Dictionary<Value, TrainingTensor>();
        var dPred = grads[model.Prediction] = Add("d_" + prediction.Name, prediction.Shape, TensorRole.ActivationGradient);
        var kind = model.Loss switch
        {
            MseLossNode => LossKind.MeanSquaredError,
            SoftmaxCrossEntropyLossNode => LossKind.SoftmaxCrossEntropy,
            _ => throw new NotSupportedException($"autodiff: unknown loss {model.Loss.OpName}"),
        };
        ops.Add(new LossWithGradient(model.Loss.Name, kind, prediction, Of(model.Target), loss, dPred));

        // A value needs a gradient if a trainable parameter lies upstream of it.
        var needsGrad = new HashSet<Value>(model.Parameters.Where(p => p.Trainable).Select(p => p.Value));
        foreach (var node in model.Nodes)
            if (node.Inputs.Any(needsGrad.Contains))
                needsGrad.Add(node.Output);

        // Backward, in reverse topological order.
        var paramGrads = new Dictionary<Parameter, TrainingTensor>();
        void Contribute(Value v, string producer, Func<TrainingTensor, TrainingOp> write)
        {
            if (!grads.TryGetValue(v, out var existing))
            {
                var g = grads[v] = Add("d_" + v.Name, v.Shape, TensorRole.ActivationGradient);
                ops.Add(write(g));
                return;
            }
            var part = Add($"d_{v.Name}_from_{producer}", v.Shape, TensorRole.ActivationGradient);
            ops.Add(write(part));
            ops.Add(new GradientAccumulate($"{producer}_accumulate_d_{v.Name}", existing, part));
        }

        foreach (var node in model.Nodes.Reverse())
        {
            if (!grads.TryGetValue(node.Output, out var dy)) continue; // nothing downstream depends on it
            switch (node)
            {
                case LinearNode l:
                    if (l.Weight.Trainable)
                    {
                        var dw = paramGrads[l.Weight] = Add("d_" + l.Weight.Name, l.Weight.Value.Shape, TensorRole.ParameterGradient);
                        ops.Add(new LinearWeightGradient(l.Name + "_weight_gradient", dy, Of(l.Input), dw));
                    }
                    // Batch 1: the bias gradient is dY itself; no copy.
                    if (l.Bias is { Trainable: true }) paramGrads[l.Bias] = dy;
                    if (needsGrad.Contains(l.Input) && l.Input.Kind == ValueKind.Activation)
                        Contribute(l.Input, l.Name, dx => new LinearInputGradient(l.Name + "_input_gradient", dy, Of(l.Weight.Value), dx));
                    break;
                case ReluNode r:
                    if (needsGrad.Contains(r.Input) && r.Input.Kind == ValueKind.Activation)
                        Contribute(r.Input, r.Name, dx => new ReluBackward(r.Name + "_backward", Of(r.Input), dy, dx));
                    break;
                default:
                    throw new NotSupportedException($"autodiff: no backward rule for {node.OpName}");
            }
        }

        // Update, in parameter order.
        foreach (var p in model.Parameters.Where(p => p.Trainable))
        {
            if (!paramGrads.TryGetValue(p, out var g)) continue; // not on the path to the loss
            var v = model.Optimizer.HasMomentum ? Add("v_" + p.Name, p.Value.Shape, TensorRole.OptimizerState) : null;
            ops.Add(new SgdUpdate(p.Name + "_sgd", parameters[p], g, v, model.Optimizer));
        }

        return new TrainingGraph(model, tensors, ops, parameters, Of(model.Input), Of(model.Target), prediction, loss);
    }
}
