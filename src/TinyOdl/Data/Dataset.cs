using System.Globalization;
using System.IO.Compression;

namespace TinyOdl.Data;

/// <summary>A classification data set: feature vectors (exact float32 values) and integer class labels.</summary>
public sealed class Dataset
{
    public Dataset(IReadOnlyList<float[]> inputs, IReadOnlyList<int> labels, int classes)
    {
        if (inputs.Count != labels.Count) throw new ArgumentException("inputs and labels differ in count");
        Inputs = inputs;
        Labels = labels;
        Classes = classes;
    }

    public IReadOnlyList<float[]> Inputs { get; }
    public IReadOnlyList<int> Labels { get; }
    public int Classes { get; }
    public int Count => Inputs.Count;
    public int Features => Inputs.Count == 0 ? 0 : Inputs[0].Length;

    /// <summary>One-hot target of sample i.</summary>
    public float[] Target(int i)
    {
        var t = new float[Classes];
        t[Labels[i]] = 1f;
        return t;
    }

    public Dataset Subset(IEnumerable<int> indices)
    {
        var idx = indices.ToArray();
        return new Dataset(idx.Select(i => Inputs[i]).ToArray(), idx.Select(i => Labels[i]).ToArray(), Classes);
    }

    public Dataset Take(int n) => Subset(Enumerable.Range(0, Math.Min(n, Count)));

    /// <summary>
    /// Shuffles with a seeded Fisher-Yates (SplitMix64) and splits off the last <paramref name="testFraction"/>
    /// as the held-out test set. Reproducible on every machine.
    /// </summary>
    public (Dataset Train, Dataset Test) Split(double testFraction, ulong seed)
    {
        var order = Enumerable.Range(0, Count).ToArray();
        var rng = new Graph.SplitMix64(seed);
        for (int i = order.Length - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        int test = (int)Math.Round(Count * testFraction);
        return (Subset(order[..(Count - test)]), Subset(order[(Count - test)..]));
    }

    /// <summary>
    /// Reads a headerless CSV (optionally .gz): numeric feature columns and an integer label in the last column.
    /// Features are multiplied by <paramref name="scale"/> in float32 (exact for the digits set's 0..16 and scale 1/16).
    /// </summary>
    public static Dataset LoadCsv(string path, int classes, float scale)
    {
        if (!File.Exists(path)) throw TinyOdlException.At(path, "data set file not found");
        using var reader = new StringReader(ReadText(path));
        var inputs = new List<float[]>();
        var labels = new List<int>();
        int lineNo = 0;
        for (string? line; (line = reader.ReadLine()) != null;)
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var cells = line.Split(',');
            if (cells.Length < 2) throw TinyOdlException.At($"{path}:{lineNo}", "expected features and a label separated by commas");
            if (inputs.Count > 0 && cells.Length - 1 != inputs[0].Length)
                throw TinyOdlException.At($"{path}:{lineNo}", $"{cells.Length - 1} features, earlier rows have {inputs[0].Length}");
            var x = new float[cells.Length - 1];
            for (int i = 0; i < x.Length; i++)
            {
                if (!float.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out float v))
                    throw TinyOdlException.At($"{path}:{lineNo}", $"column {i + 1} is not a number: '{cells[i]}'");
                x[i] = v * scale;
            }
            if (!double.TryParse(cells[^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double label) || label != Math.Floor(label) || label < 0 || label >= classes)
                throw TinyOdlException.At($"{path}:{lineNo}", $"label '{cells[^1]}' is not a class index in 0..{classes - 1}");
            inputs.Add(x);
            labels.Add((int)label);
        }
        if (inputs.Count == 0) throw TinyOdlException.At(path, "the data set is empty");
        return new Dataset(inputs, labels, classes);
    }

    /// <summary>
    /// The file's text; .gz files are decompressed and checked against the gzip trailer's length field, so a
    /// truncated download is an error rather than a shorter data set.
    /// </summary>
    private static string ReadText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (!path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)) return System.Text.Encoding.UTF8.GetString(bytes);
        try
        {
            using var gz = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var plain = new MemoryStream();
            gz.CopyTo(plain);
            uint trailerLength = bytes.Length >= 18 ? BitConverter.ToUInt32(bytes, bytes.Length - 4) : uint.MaxValue;
            if ((uint)plain.Length != trailerLength) throw new InvalidDataException("truncated or corrupt");
            return System.Text.Encoding.UTF8.GetString(plain.ToArray());
        }
        catch (InvalidDataException e)
        {
            throw TinyOdlException.At(path, $"not a valid gzip file ({e.Message})");
        }
    }

    /// <summary>Random inputs in [-1, 1) and random classes, for verifying a model that names no data set.</summary>
    public static Dataset Synthetic(int count, int features, int classes, ulong seed)
    {
        var rng = new Graph.SplitMix64(seed);
        var inputs = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, features).Select(_ => rng.NextSymmetric(1f)).ToArray()).ToArray();
        var labels = Enumerable.Range(0, count).Select(_ => rng.NextInt(classes)).ToArray();
        return new Dataset(inputs, labels, classes);
    }
}
