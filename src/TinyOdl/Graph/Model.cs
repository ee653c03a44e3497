namespace TinyOdl.Graph;

/// <summary>
/// A trainable model: a DAG of nodes from one input to a prediction, a loss against a target, and the optimizer.
/// Built by <see cref="ModelBuilder"/> (directly or through a front end), which checks names and shapes.
/// </summary>
public sealed class Model
{
    internal Model(string name, Value input, Value target, IReadOnlyList<Parameter> parameters,
        IReadOnlyList<Node> nodes, LossNode loss, SgdOptimizer optimizer)
    {
        Name = name;
        Input = input;
        Target = target;
        Parameters = parameters;
        Nodes = nodes;
        Loss = loss;
        Optimizer = optimizer;
    }

    public string Name { get; }
    public Value Input { get; }
    public Value Target { get; }
    public IReadOnlyList<Parameter> Parameters { get; }
    /// <summary>Forward nodes in topological order, ending with the node that produces <see cref="Prediction"/>; the loss is separate.</summary>
    public IReadOnlyList<Node> Nodes { get; }
    public LossNode Loss { get; }
    public Value Prediction => Loss.Prediction;
    public SgdOptimizer Optimizer { get; }

    public int ParameterCount => Parameters.Sum(p => p.Value.Elements);

    /// <summary>
    /// The same model with each node replaced by <paramref name="map"/>'s result, which must keep the node's values and
    /// parameters (a setting changes, e.g. a binary layer's MST option); no shape is checked again.
    /// </summary>
    public Model WithNodes(Func<Node, Node> map) => new(Name, Input, Target, Parameters, Nodes.Select(map).ToArray(), Loss, Optimizer);
}
