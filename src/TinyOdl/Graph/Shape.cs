namespace TinyOdl.Graph;

/// <summary>A tensor shape (row-major, innermost dimension last). Batch size is always 1 and not part of the shape.</summary>
public sealed record Shape
{
    private readonly int[] _dims;

    public Shape(params int[] dims)
    {
        if (dims.Length == 0) throw new ArgumentException("a shape needs at least one dimension");
        foreach (var d in dims)
            if (d <= 0) throw new ArgumentException($"dimension {d} is not positive");
        _dims = (int[])dims.Clone();
    }

    public IReadOnlyList<int> Dims => _dims;
    public int Rank => _dims.Length;
    public int this[int axis] => _dims[axis];
    public int Elements => _dims.Aggregate(1, (a, b) => checked(a * b));

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);
    public override int GetHashCode() => _dims.Aggregate(17, HashCode.Combine);
    public override string ToString() => "[" + string.Join("x", _dims) + "]";
}
