namespace TinyOdl.Graph;

/// <summary>
/// Shapes of one convolution: channels, groups and the window. Kernels index the weight as
/// [out][in / groups][kh][kw] and activations as [channel][row][column].
/// </summary>
public sealed record ConvGeometry(int InChannels, int OutChannels, int Groups, Window2d Window)
{
    public int InPerGroup => InChannels / Groups;
    public int OutPerGroup => OutChannels / Groups;
    /// <summary>Taps of one output value: in/groups * kh * kw (the reduction length, im2col's K).</summary>
    public int Taps => InPerGroup * Window.KernelArea;
    /// <summary>Output pixels (im2col's P).</summary>
    public int Pixels => Window.Pixels;
    /// <summary>Multiply-accumulates of the forward pass; each backward pass has as many.</summary>
    public long Macs => (long)OutChannels * Pixels * Taps;
    /// <summary>Elements of the im2col column matrix: every input channel's taps times the output pixels.</summary>
    public long ColumnElements => (long)InChannels * Window.KernelArea * Pixels;
    /// <summary>1x1, stride 1, no padding: the input already is the column matrix.</summary>
    public bool IsPointwise => Window is { KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1, HasPadding: false };
    public bool IsDepthwise => Groups == InChannels && Groups == OutChannels;
    /// <summary>Words of one pixel's packed signs per group (binary layers: 32 channels per word, the last one zero-filled).</summary>
    public int SignWords => (InPerGroup + 31) / 32;

    public static ConvGeometry Of(Conv2dNode c) => new(c.InChannels, c.OutChannels, c.Groups, c.Window);

    /// <summary>A name fragment: 3x32x32_k3x3_s1_p1_g1_o16.</summary>
    public string Tag => $"{InChannels}x{Window.Tag}_g{Groups}_o{OutChannels}";
}
