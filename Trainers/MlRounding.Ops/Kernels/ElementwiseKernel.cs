using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace MlRounding.Kernels;

/// <summary>
/// Shared plumbing of the vectorized CPU kernels: decides whether a tensor can take the fast path, hands out
/// raw pointers, and splits large tensors into chunks run in parallel.
/// </summary>
internal static unsafe class ElementwiseKernel
{
    /// <summary>Below this many elements a kernel runs on the calling thread: scheduling would cost more than it saves.</summary>
    public const long ParallelThreshold = 1 << 18;

    /// <summary>Chunks are multiples of this many elements, so each chunk owns whole bytes of a 1-bit mask.</summary>
    public const long ChunkAlignment = 64;

    /// <summary>True when <paramref name="x"/> is a contiguous CPU float32/float64 tensor the kernels can read directly.</summary>
    public static bool CanUseFastPath(Tensor x) =>
        x.device_type == DeviceType.CPU
        && (x.dtype == ScalarType.Float32 || x.dtype == ScalarType.Float64)
        && x.is_contiguous()
        && x.numel() > 0;

    /// <summary>Address of the first element of a contiguous CPU tensor.</summary>
    public static void* Pointer(Tensor t)
    {
        Span<byte> bytes = t.bytes;
        return Unsafe.AsPointer(ref MemoryMarshal.GetReference(bytes));
    }

    /// <summary>Runs <paramref name="body"/>(start, count) over [0, length) in aligned chunks, in parallel when large.</summary>
    public static void For(long length, Action<long, long> body)
    {
        if (length < ParallelThreshold)
        {
            body(0, length);
            return;
        }

        int workers = Math.Max(1, Math.Min(Environment.ProcessorCount, torch.get_num_threads()));
        long chunk = (length + workers - 1) / workers;
        chunk = (chunk + ChunkAlignment - 1) / ChunkAlignment * ChunkAlignment;
        int chunks = (int)((length + chunk - 1) / chunk);
        if (chunks == 1)
        {
            body(0, length);
            return;
        }

        Parallel.For(0, chunks, i =>
        {
            long start = i * chunk;
            body(start, Math.Min(chunk, length - start));
        });
    }
}
