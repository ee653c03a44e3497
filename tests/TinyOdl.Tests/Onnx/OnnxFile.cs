using Google.Protobuf;
using Onnx;

namespace TinyOdl.Tests.Onnx;

/// <summary>
/// Writes small ONNX models for the tests with OnnxSharp's generated classes, the way exporters do: a graph of
/// named nodes, initializers (float_data or little-endian raw_data), typed inputs and outputs, an opset import.
/// </summary>
internal sealed class OnnxFile
{
    public OnnxFile(long opset = 13, long irVersion = 8)
    {
        Model = new ModelProto
        {
            IrVersion = irVersion,
            ProducerName = "tinyodl-tests",
            Graph = new GraphProto { Name = "test_graph" },
        };
        Model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
    }

    public ModelProto Model { get; }
    private GraphProto G => Model.Graph;

    /// <summary>Dimensions are ints (fixed) or strings (symbolic, e.g. "N").</summary>
    public OnnxFile Input(string name, params object[] dims) { G.Input.Add(ValueInfo(name, dims, TensorProto.Types.DataType.Float)); return this; }

    public OnnxFile TypedInput(string name, TensorProto.Types.DataType type, params object[] dims) { G.Input.Add(ValueInfo(name, dims, type)); return this; }

    public OnnxFile Output(string name, params object[] dims) { G.Output.Add(ValueInfo(name, dims, TensorProto.Types.DataType.Float)); return this; }

    public OnnxFile Initializer(string name, long[] dims, float[] values, bool raw = false)
    {
        G.Initializer.Add(FloatTensor(name, dims, values, raw));
        return this;
    }

    public OnnxFile Int64Initializer(string name, params long[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        G.Initializer.Add(t);
        return this;
    }

    public OnnxFile Node(string op, string[] inputs, string[] outputs, string name = "", params AttributeProto[] attributes)
    {
        var n = new NodeProto { OpType = op, Name = name };
        n.Input.AddRange(inputs);
        n.Output.AddRange(outputs);
        n.Attribute.AddRange(attributes);
        G.Node.Add(n);
        return this;
    }

    public byte[] Bytes() => Model.ToByteArray();

    public string Save(string path)
    {
        File.WriteAllBytes(path, Bytes());
        return path;
    }

    public static TensorProto FloatTensor(string name, long[] dims, float[] values, bool raw = false)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        if (raw)
        {
            var bytes = new byte[values.Length * 4];
            for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
            t.RawData = ByteString.CopyFrom(bytes);
        }
        else t.FloatData.AddRange(values);
        return t;
    }

    public static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    public static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };
    public static AttributeProto Attr(string name, long[] values)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.AddRange(values);
        return a;
    }
    public static AttributeProto Attr(string name, TensorProto value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = value };

    private static ValueInfoProto ValueInfo(string name, object[] dims, TensorProto.Types.DataType type)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims)
            shape.Dim.Add(d switch
            {
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                long l => new TensorShapeProto.Types.Dimension { DimValue = l },
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                _ => throw new ArgumentException($"dimension {d}"),
            });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    /// <summary>Seeded uniform values in [-1, 1), rounded to float32.</summary>
    public static float[] Random(int seed, int count)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }
}
