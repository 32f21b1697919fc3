using static TorchSharp.torch;

namespace MlRounding.Kernels;

/// <summary>Tensor-level entry points of the CPU kernels, with the composite LibTorch path as a fallback.</summary>
internal static unsafe class TensorKernels
{
    /// <summary>Rounds with the midpoint rule (half to even by default); a new tensor, never a view of <paramref name="x"/>.</summary>
    public static Tensor Round(Tensor x, MidpointRounding midpoint = MidpointRounding.ToEven)
    {
        if (!ElementwiseKernel.CanUseFastPath(x))
        {
            using Tensor contiguous = x.detach().contiguous();
            return ElementwiseKernel.CanUseFastPath(contiguous) ? Round(contiguous, midpoint) // a view, a copy of a view
                : x.numel() == 0 ? x.detach().clone()
                : throw new ArgumentException($"Rounding needs a float32 or float64 CPU tensor, got {x.dtype} on {x.device_type}.", nameof(x));
        }

        Tensor y = HugePages.EmptyLike(x);
        var src = (IntPtr)ElementwiseKernel.Pointer(x);
        var dst = (IntPtr)ElementwiseKernel.Pointer(y);
        if (x.dtype == ScalarType.Float32)
        {
            ElementwiseKernel.For(x.numel(), (s, c) => RoundKernel.Round((float*)src + s, (float*)dst + s, c, midpoint));
        }
        else
        {
            ElementwiseKernel.For(x.numel(), (s, c) => RoundKernel.Round((double*)src + s, (double*)dst + s, c, midpoint));
        }

        return y;
    }

    /// <summary>
    /// Per-tensor fake quantization through the one-pass kernel. Returns the output and a 1-bit mask
    /// (a uint8 tensor of ceil(n/8) bytes), or null when the tensor cannot take the fast path.
    /// </summary>
    public static (Tensor Output, Tensor Mask)? FakeQuantize(Tensor x, double scale, long zeroPoint, long qmin, long qmax)
    {
        if (!ElementwiseKernel.CanUseFastPath(x))
        {
            return null;
        }

        long n = x.numel();
        Tensor y = HugePages.EmptyLike(x);
        Tensor mask = empty((n + 7) / 8, ScalarType.Byte);
        var src = (IntPtr)ElementwiseKernel.Pointer(x);
        var dst = (IntPtr)ElementwiseKernel.Pointer(y);
        var bits = (IntPtr)ElementwiseKernel.Pointer(mask);
        if (x.dtype == ScalarType.Float32)
        {
            float s = (float)scale, z = zeroPoint, lo = qmin, hi = qmax;
            ElementwiseKernel.For(n, (start, c) =>
                FakeQuantKernel.Forward((float*)src + start, (float*)dst + start, (byte*)bits + start / 8, c, s, z, lo, hi));
        }
        else
        {
            double z = zeroPoint, lo = qmin, hi = qmax;
            ElementwiseKernel.For(n, (start, c) =>
                FakeQuantKernel.Forward((double*)src + start, (double*)dst + start, (byte*)bits + start / 8, c, scale, z, lo, hi));
        }

        return (y, mask);
    }

    /// <summary>Gradient through a 1-bit mask made by <see cref="FakeQuantize"/>: dy where the bit is set, else 0.</summary>
    public static Tensor MaskedGradient(Tensor dy, Tensor mask)
    {
        Tensor g = dy.is_contiguous() ? dy : dy.contiguous();
        Tensor dx = HugePages.EmptyLike(g);
        var pdy = (IntPtr)ElementwiseKernel.Pointer(g);
        var pdx = (IntPtr)ElementwiseKernel.Pointer(dx);
        var bits = (IntPtr)ElementwiseKernel.Pointer(mask);
        if (g.dtype == ScalarType.Float32)
        {
            ElementwiseKernel.For(g.numel(), (s, c) => FakeQuantKernel.Backward((float*)pdy + s, (byte*)bits + s / 8, (float*)pdx + s, c));
        }
        else
        {
            ElementwiseKernel.For(g.numel(), (s, c) => FakeQuantKernel.Backward((double*)pdy + s, (byte*)bits + s / 8, (double*)pdx + s, c));
        }

        return dx;
    }
}
