using System.Buffers.Binary;
using Google.Protobuf;
using Onnx;

namespace TinyOdl.Frontends.Onnx;

/// <summary>A float32 tensor read from an ONNX <c>TensorProto</c> (an initializer, or a conformance case's input_K.pb / output_K.pb).</summary>
/// <param name="Name">The tensor's name in the file (may be empty).</param>
/// <param name="Dims">Its shape as stored (empty for a scalar).</param>
/// <param name="Values">Its elements in row-major order, exactly as stored.</param>
public sealed record OnnxTensor(string Name, IReadOnlyList<long> Dims, float[] Values)
{
    public int Elements => Values.Length;
    public override string ToString() => $"'{Name}' {OnnxTensors.FormatDims(Dims)}";
}

/// <summary>
/// Reads ONNX <c>TensorProto</c>s: float32 data from <c>float_data</c> or little-endian <c>raw_data</c>, int64 data
/// (shapes) from <c>int64_data</c> or <c>raw_data</c>. Errors are <see cref="TinyOdlException"/>s naming the tensor.
/// </summary>
public static class OnnxTensors
{
    /// <summary>Reads a serialized TensorProto file (a conformance case's input_K.pb or output_K.pb).</summary>
    public static OnnxTensor ReadFile(string path)
    {
        if (!File.Exists(path)) throw TinyOdlException.At(path, "file not found");
        TensorProto t;
        try { t = TensorProto.Parser.ParseFrom(File.ReadAllBytes(path)); }
        catch (InvalidProtocolBufferException e) { throw TinyOdlException.At(path, $"not an ONNX TensorProto ({e.Message.TrimEnd('.')})"); }
        return ToFloat(t, path);
    }

    /// <summary>The float32 contents of <paramref name="t"/>; <paramref name="where"/> prefixes errors ("file: initializer 'w'").</summary>
    public static OnnxTensor ToFloat(TensorProto t, string where)
    {
        int count = Count(t, where);
        CheckInline(t, where);
        if (t.DataType != (int)TensorProto.Types.DataType.Float)
            throw TinyOdlException.At(where, $"element type {TypeName(t.DataType)} is not supported; TinyOdl imports float32 (FLOAT) tensors");
        float[] values;
        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != count * 4)
                throw TinyOdlException.At(where, $"raw_data has {t.RawData.Length} bytes, expected {count * 4} for {count} float32 values of shape {FormatDims(t.Dims)}");
            values = new float[count];
            var span = t.RawData.Span;
            for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(span.Slice(i * 4, 4));
        }
        else
        {
            if (t.FloatData.Count != count)
                throw TinyOdlException.At(where, $"float_data has {t.FloatData.Count} values, expected {count} for shape {FormatDims(t.Dims)}");
            values = t.FloatData.ToArray();
        }
        return new OnnxTensor(t.Name, t.Dims.ToArray(), values);
    }

    /// <summary>The int64 contents of <paramref name="t"/> (Reshape's shape input).</summary>
    public static long[] ToInt64(TensorProto t, string where)
    {
        int count = Count(t, where);
        CheckInline(t, where);
        if (t.DataType != (int)TensorProto.Types.DataType.Int64)
            throw TinyOdlException.At(where, $"element type {TypeName(t.DataType)}, expected INT64");
        if (!t.RawData.IsEmpty)
        {
            if (t.RawData.Length != count * 8)
                throw TinyOdlException.At(where, $"raw_data has {t.RawData.Length} bytes, expected {count * 8} for {count} int64 values");
            var result = new long[count];
            var span = t.RawData.Span;
            for (int i = 0; i < count; i++) result[i] = BinaryPrimitives.ReadInt64LittleEndian(span.Slice(i * 8, 8));
            return result;
        }
        if (t.Int64Data.Count != count)
            throw TinyOdlException.At(where, $"int64_data has {t.Int64Data.Count} values, expected {count}");
        return t.Int64Data.ToArray();
    }

    private static int Count(TensorProto t, string where)
    {
        long n = 1;
        foreach (var d in t.Dims)
        {
            if (d < 0) throw TinyOdlException.At(where, $"negative dimension in shape {FormatDims(t.Dims)}");
            n *= d;
            if (n > 1 << 26) throw TinyOdlException.At(where, $"shape {FormatDims(t.Dims)} is too large");
        }
        return (int)n;
    }

    private static void CheckInline(TensorProto t, string where)
    {
        if (t.DataLocation == TensorProto.Types.DataLocation.External || t.ExternalData.Count > 0)
            throw TinyOdlException.At(where, "stores its data in an external file, which is not supported; save the model with all tensors inside the .onnx file");
        if (t.Segment is not null)
            throw TinyOdlException.At(where, "is a segment of a larger tensor, which is not supported");
    }

    /// <summary>ONNX's name of an element type (TensorProto.DataType), e.g. FLOAT, DOUBLE, INT64.</summary>
    public static string TypeName(int dataType) =>
        Enum.IsDefined(typeof(TensorProto.Types.DataType), dataType)
            ? ((TensorProto.Types.DataType)dataType).ToString().ToUpperInvariant()
            : $"#{dataType}";

    public static string FormatDims(IEnumerable<long> dims) => "[" + string.Join(", ", dims) + "]";
}
