namespace TinyOdl.Graph;

/// <summary>
/// The sliding window of a 2-D convolution or pooling over a CHW input: kernel, stride and zero padding
/// (top, left, bottom, right, as ONNX's pads). Output size is floor((H + pads - K) / S) + 1 (ONNX's and PyTorch's
/// default, ceil_mode off). Dilation is 1.
/// </summary>
public sealed record Window2d(int Height, int Width, int KernelH, int KernelW, int StrideH = 1, int StrideW = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0)
{
    public int OutHeight => (Height + PadTop + PadBottom - KernelH) / StrideH + 1;
    public int OutWidth => (Width + PadLeft + PadRight - KernelW) / StrideW + 1;
    public int Pixels => OutHeight * OutWidth;
    public int InputPixels => Height * Width;
    public int KernelArea => KernelH * KernelW;
    public bool HasPadding => PadTop != 0 || PadLeft != 0 || PadBottom != 0 || PadRight != 0;

    /// <summary>Why this window is not usable, or null: the messages name the attribute as layers spell it.</summary>
    public string? Problem()
    {
        if (KernelH <= 0 || KernelW <= 0) return $"kernel_size must be positive, got {KernelH}x{KernelW}";
        if (StrideH <= 0 || StrideW <= 0) return $"stride must be positive, got {StrideH}x{StrideW}";
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0) return $"padding must not be negative, got {PadsText}";
        if (KernelH > Height + PadTop + PadBottom || KernelW > Width + PadLeft + PadRight)
            return $"kernel {KernelH}x{KernelW} is larger than the padded input {Height + PadTop + PadBottom}x{Width + PadLeft + PadRight} (input {Height}x{Width}, padding {PadsText})";
        return null;
    }

    public string PadsText => PadTop == PadBottom && PadLeft == PadRight && PadTop == PadLeft
        ? PadTop.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : $"[{PadTop}, {PadLeft}, {PadBottom}, {PadRight}]";

    /// <summary>A name fragment for kernels: k3x3_s2x2_p1 (padding as top-left-bottom-right when uneven).</summary>
    public string Tag
    {
        get
        {
            string s = StrideH == StrideW ? $"s{StrideH}" : $"s{StrideH}x{StrideW}";
            string p = PadTop == PadBottom && PadLeft == PadRight && PadTop == PadLeft ? $"p{PadTop}" : $"p{PadTop}_{PadLeft}_{PadBottom}_{PadRight}";
            return $"{Height}x{Width}_k{KernelH}x{KernelW}_{s}_{p}";
        }
    }
}
