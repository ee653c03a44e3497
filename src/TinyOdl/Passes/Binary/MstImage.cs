using System.Numerics;

namespace TinyOdl.Passes.Binary;

/// <summary>
/// The stored form of an MST-compressed binary layer (docs/BINARY.md, "Stored form (weight image)"): the packed
/// weights as one record per channel in tree order, a root in full and every child as its parent index plus the
/// difference D = w_parent XOR w_child, as a mask of kernelWords words or as a list of D's bit positions, whichever
/// is smaller. The device writes the same words (<c>MstLowering.BuildTree</c>) whenever it rebuilds the tree; this
/// class is the C# reference for them and the decoder that proves they hold the weights.
/// </summary>
public static class MstImage
{
    /// <summary>Header word 1's form field: the channel's packed kernel in full (group roots only).</summary>
    public const int FullForm = 0;

    /// <summary>Header word 1's form field: kernelWords words of D.</summary>
    public const int MaskForm = 1;

    /// <summary>Header word 1's form field: popcount(D) 16-bit positions t * 32 + bit, two per word, lower half first.</summary>
    public const int ListForm = 2;

    /// <summary>Header word 0 holds the channel and parent + 1 in 16 bits each, so at most this many channels.</summary>
    public const int MaxChannels = 0xFFFF;

    /// <summary>Words of a layer's image at most: every record a header and a full kernel (a list is chosen only when shorter).</summary>
    public static int Capacity(int channels, int kernelWords) => checked(channels * (2 + kernelWords));

    /// <summary>A position t * 32 + bit must fit 16 bits, so kernels of more than 65536 bits store every difference as a mask.</summary>
    public static bool ListsFit(int kernelWords) => (long)kernelWords * 32 <= 1 << 16;

    /// <summary>
    /// The list form for a child whose D has <paramref name="d"/> bits: only when its ceil(d / 2) words are strictly
    /// fewer than the mask's (a tie keeps the mask, which needs no decoding) and positions fit 16 bits.
    /// </summary>
    public static bool UsesList(int d, int kernelWords) => ListsFit(kernelWords) && (d + 1) / 2 < kernelWords;

    /// <summary>The image of <paramref name="channels"/> (packed kernels in layer order) along <paramref name="tree"/>
    /// (global channel indices, group-major order as <see cref="MstTree.Join"/> gives it).</summary>
    public static uint[] Encode(IReadOnlyList<uint[]> channels, MstTree tree)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(tree);
        int n = channels.Count;
        if (tree.Count != n) throw TinyOdlException.At("channels", $"{n} channels but a tree over {tree.Count}");
        CheckChannels(n);
        int kernelWords = n == 0 ? 0 : channels[0].Length;
        var image = new List<uint>(Capacity(n, kernelWords));
        foreach (int c in tree.Order)
        {
            int p = tree.Parent[c];
            if (channels[c].Length != kernelWords)
                throw TinyOdlException.At("channels", $"channel {c} packs to {channels[c].Length} words but channel 0 to {kernelWords}");
            image.Add((uint)c | (uint)(p + 1) << 16);
            if (p < 0)
            {
                image.Add(FullForm | (uint)kernelWords << 2);
                image.AddRange(channels[c]);
                continue;
            }
            var diff = channels[p].Zip(channels[c], (a, b) => a ^ b).ToArray();
            int d = diff.Sum(BitOperations.PopCount);
            if (!UsesList(d, kernelWords))
            {
                image.Add(MaskForm | (uint)kernelWords << 2);
                image.AddRange(diff);
                continue;
            }
            image.Add(ListForm | (uint)d << 2);
            var positions = Enumerable.Range(0, kernelWords * 32).Where(i => (diff[i / 32] >> (i % 32) & 1) != 0).Select(i => (uint)i).ToArray();
            for (int i = 0; i < positions.Length; i += 2)
                image.Add(positions[i] | (i + 1 < positions.Length ? positions[i + 1] << 16 : 0));
        }
        return image.ToArray();
    }

    /// <summary>A decoded image: each channel's packed kernel and its parent (-1 for a group root), and the words read.</summary>
    public sealed record Decoded(uint[][] Kernels, int[] Parent, int Words);

    /// <summary>
    /// The packed kernels back from an image (its first <paramref name="channels"/> records; words after them are
    /// ignored). A record must come after its parent's, as tree order guarantees; a malformed image throws.
    /// </summary>
    public static Decoded Decode(ReadOnlySpan<uint> image, int channels, int kernelWords)
    {
        CheckChannels(channels);
        var kernels = new uint[channels][];
        var parent = new int[channels];
        int at = 0;
        uint Next(ReadOnlySpan<uint> image) => at < image.Length ? image[at++] : throw Malformed($"ends at word {at}");
        for (int record = 0; record < channels; record++)
        {
            uint h0 = Next(image), h1 = Next(image);
            int c = (int)(h0 & 0xFFFF), p = (int)(h0 >> 16) - 1, form = (int)(h1 & 3), count = (int)(h1 >> 2);
            if (c >= channels || kernels[c] is not null) throw Malformed($"record {record} names channel {c} again or out of range");
            if (p >= 0 && (p >= channels || kernels[p] is null)) throw Malformed($"channel {c}'s parent {p} has no earlier record");
            if ((form == FullForm) != (p < 0)) throw Malformed($"channel {c}: form {form} with parent {p}");
            var bits = kernels[c] = new uint[kernelWords];
            parent[c] = p;
            switch (form)
            {
                case FullForm or MaskForm when count == kernelWords:
                    for (int t = 0; t < kernelWords; t++) bits[t] = Next(image) ^ (p < 0 ? 0 : kernels[p][t]);
                    break;
                case ListForm when UsesList(count, kernelWords):
                    kernels[p].CopyTo(bits, 0);
                    for (int i = 0; i < count; i++)
                    {
                        uint word = i % 2 == 0 ? Next(image) : image[at - 1] >> 16;
                        int position = (int)(word & 0xFFFF);
                        if (position >= kernelWords * 32) throw Malformed($"channel {c}: position {position} beyond {kernelWords * 32} bits");
                        bits[position / 32] ^= 1u << (position % 32);
                    }
                    break;
                default:
                    throw Malformed($"channel {c}: form {form} with count {count} for {kernelWords}-word kernels");
            }
        }
        return new Decoded(kernels, parent, at);
    }

    /// <summary>What an image holds: its words and how many records take each form.</summary>
    public sealed record Size(int Words, int Roots, int Masks, int Lists);

    /// <summary>Walks the first <paramref name="channels"/> records' headers (of an encoded or a device image).</summary>
    public static Size Measure(ReadOnlySpan<uint> image, int channels)
    {
        int at = 0, roots = 0, masks = 0, lists = 0;
        for (int record = 0; record < channels; record++)
        {
            if (at + 1 >= image.Length) throw Malformed($"ends at word {at}");
            uint h1 = image[at + 1];
            int count = (int)(h1 >> 2);
            switch (h1 & 3)
            {
                case FullForm: roots++; at += 2 + count; break;
                case MaskForm: masks++; at += 2 + count; break;
                case ListForm: lists++; at += 2 + (count + 1) / 2; break;
                default: throw Malformed($"record {record} has form {h1 & 3}");
            }
        }
        return new Size(at, roots, masks, lists);
    }

    private static void CheckChannels(int channels)
    {
        if (channels > MaxChannels)
            throw TinyOdlException.At("channels", $"{channels} channels do not fit the MST weight image's 16-bit channel field (at most {MaxChannels})");
    }

    private static TinyOdlException Malformed(string why) => TinyOdlException.At("mst image", why);
}
