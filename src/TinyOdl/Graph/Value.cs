namespace TinyOdl.Graph;

/// <summary>What a graph value is for; decides where it lives and who writes it.</summary>
public enum ValueKind
{
    /// <summary>The model input, supplied by the caller of train_step / predict.</summary>
    Input,
    /// <summary>The training target, supplied by the caller of train_step.</summary>
    Target,
    /// <summary>A learnable parameter (weight or bias) with initial values.</summary>
    Parameter,
    /// <summary>An intermediate result of a node.</summary>
    Activation,
    /// <summary>The scalar loss.</summary>
    Loss,
}

/// <summary>A typed tensor in the model graph (SSA: exactly one producer, unless it is an input or parameter).</summary>
public sealed class Value
{
    internal Value(string name, Shape shape, DataType type, ValueKind kind)
    {
        Name = name;
        Shape = shape;
        Type = type;
        Kind = kind;
    }

    public string Name { get; }
    public Shape Shape { get; }
    public DataType Type { get; }
    public ValueKind Kind { get; }
    public int Elements => Shape.Elements;
    public override string ToString() => $"%{Name}: {Type.ShortName()}{Shape}";
}

/// <summary>A learnable tensor: its value, initial contents (exact float32 values) and whether SGD updates it.</summary>
public sealed class Parameter
{
    internal Parameter(Value value, float[] initial, bool trainable)
    {
        if (initial.Length != value.Elements)
            throw new ArgumentException($"parameter {value.Name}: {initial.Length} initial values for {value.Elements} elements");
        Value = value;
        Initial = initial;
        Trainable = trainable;
    }

    public Value Value { get; }
    public string Name => Value.Name;
    public IReadOnlyList<float> Initial { get; }
    public bool Trainable { get; }
}
