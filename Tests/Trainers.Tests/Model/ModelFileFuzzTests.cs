using System.Diagnostics;
using System.IO.Compression;
using CsCheck;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Trainers.Tests.Model;

/// <summary>
/// Fuzz harness for saved model files (CsCheck-generated mutations). A whole pipeline with our components (a
/// <c>Quantize</c> transform and a quantization-aware multiclass model between ML.NET's own transforms) is saved once;
/// each input is that zip mutated: raw bytes overwritten or the file truncated, or one entry rewritten inside a valid
/// zip (bytes overwritten, an int32 field set to an extreme, the entry truncated or extended). Loading each input must
/// either give a model that scores the test rows, or throw one of the documented exceptions (see <see cref="Documented"/>);
/// never another exception, a crash, more than <see cref="MaxAllocatedBytes"/> of allocation, or more than 10 s.
/// The suite runs 10,000 inputs; <c>CsCheck_Iter</c> or <c>CsCheck_Time</c> (seconds) run it longer, and
/// <c>CsCheck_Seed</c> replays the seed a failure prints (README, "Reliability").
/// </summary>
[TestClass]
public sealed class ModelFileFuzzTests
{
    /// <summary>No single load may allocate more than this (length fields are checked before allocating).</summary>
    private const long MaxAllocatedBytes = 64L << 20;

    private static readonly Lazy<(byte[] Zip, string[] Entries, IDataView Rows)> Saved = new(Save);

    private static (byte[], string[], IDataView) Save()
    {
        var ml = new MLContext(seed: 1);
        var rows = Enumerable.Range(0, 120).Select(i => new Row
        {
            Pixels = Digits.Train.Features.AsSpan(i * 64, 64).ToArray(), Label = Digits.Train.Labels[i],
        }).ToList();
        IDataView data = ml.Data.LoadFromEnumerable(rows);
        var model = ml.Transforms.Conversion.MapValueToKey("Label")
            .Append(ml.Transforms.Quantize("Features", "Pixels", bits: 4))
            .Append(ml.MulticlassClassification.Trainers.QuantizationAware(new QatOptions { HiddenLayers = new[] { 8 }, WeightBits = 4, MaxEpoch = 2, NumberOfThreads = 1 }))
            .Fit(data);
        using var stream = new MemoryStream();
        ml.Model.Save(model, data.Schema, stream);
        byte[] zip = stream.ToArray();
        using var archive = new ZipArchive(new MemoryStream(zip));
        string[] ours = archive.Entries.Where(Ours).Select(e => e.FullName).ToArray();
        Assert.HasCount(2, ours, "the Quantize transformer's and the trained model's entries");
        return (zip, ours, ml.Data.TakeRows(data, 20));
    }

    /// <summary>Whether an entry was written by MlRounding (its header names our loader assembly).</summary>
    private static bool Ours(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        byte[] bytes = buffer.ToArray();
        return bytes.AsSpan().IndexOf(System.Text.Encoding.Unicode.GetBytes("MlRounding.Transforms")) >= 0
            || bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes("MlRounding.Transforms")) >= 0;
    }

    private sealed class Row
    {
        [VectorType(64)]
        public float[] Pixels { get; set; } = new float[64];

        public float Label { get; set; }
    }

    /// <summary>One mutation: which kind, which entry (entry kinds), where, and the bytes or value to write.</summary>
    public sealed record Mutation(int Kind, int Entry, double Position, byte[] Bytes, int Extreme)
    {
        /// <inheritdoc/>
        public override string ToString() =>
            FormattableString.Invariant($"Mutation {{ Kind = {Kind}, Entry = {Entry}, Position = {Position:R}, Bytes = {Convert.ToHexString(Bytes)}, Extreme = {Extreme} }}");

        private static readonly int[] Extremes = { 0, -1, 1, int.MaxValue, int.MinValue, 1 << 24, 1 << 30, 65536 };

        public byte[] Apply(byte[] zip, string[] entries) => Kind switch
        {
            0 => Overwrite(zip, At(zip.Length), Bytes),
            1 => zip[..At(zip.Length)],
            _ => RewriteEntry(zip, entries[Entry % entries.Length], content => Kind switch
            {
                2 => Overwrite(content, At(content.Length), Bytes),
                3 => Overwrite(content, At(content.Length) & ~3, BitConverter.GetBytes(Extremes[Extreme % Extremes.Length])),
                4 => content[..At(content.Length)],
                _ => content.Concat(Bytes).ToArray(),
            }),
        };

        private int At(int length) => Math.Clamp((int)(Position * length), 0, Math.Max(0, length - 1));

        private static byte[] Overwrite(byte[] source, int offset, byte[] bytes)
        {
            byte[] copy = (byte[])source.Clone();
            for (int i = 0; i < bytes.Length && offset + i < copy.Length; i++)
            {
                copy[offset + i] = bytes[i];
            }

            return copy;
        }

        private static byte[] RewriteEntry(byte[] zip, string name, Func<byte[], byte[]> edit)
        {
            using var output = new MemoryStream();
            using (var source = new ZipArchive(new MemoryStream(zip)))
            using (var target = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            {
                foreach (var entry in source.Entries)
                {
                    using var read = entry.Open();
                    using var buffer = new MemoryStream();
                    read.CopyTo(buffer);
                    byte[] content = entry.FullName == name ? edit(buffer.ToArray()) : buffer.ToArray();
                    using var write = target.CreateEntry(entry.FullName).Open();
                    write.Write(content);
                }
            }

            return output.ToArray();
        }
    }

    private static readonly Gen<Mutation> Mutations =
        Gen.Select(Gen.Int[0, 5], Gen.Int[0, 1000], Gen.Double[0, 1], Gen.Byte.Array[1, 8], Gen.Int[0, 7], (k, e, p, b, x) => new Mutation(k, e, p, b, x));

    /// <summary>
    /// The documented outcomes of loading a corrupted model file (ML.NET may wrap them; the chain is searched):
    /// <see cref="FormatException"/> from our entries' payloads (and from ML.NET's decoders); <see cref="InvalidDataException"/>
    /// from the zip container; from ML.NET's own entries and entry headers <see cref="InvalidOperationException"/> and
    /// <see cref="EndOfStreamException"/>, and, when the loader assembly named in a header is garbled, the
    /// <see cref="FileNotFoundException"/>, <see cref="FileLoadException"/> or <see cref="ArgumentException"/> (e.g.
    /// <see cref="System.Globalization.CultureNotFoundException"/>) of <c>Assembly.Load</c>.
    /// </summary>
    private static bool Documented(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is FormatException or InvalidDataException or EndOfStreamException or FileNotFoundException or FileLoadException
                || x.GetType() == typeof(InvalidOperationException)
                || (x is ArgumentException && x.StackTrace?.Contains("System.Reflection.Assembly", StringComparison.Ordinal) == true)
                || (x is ArgumentException && x.StackTrace?.Contains("System.Reflection.AssemblyName", StringComparison.Ordinal) == true))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A loaded model whose stored column names were altered rejects the data with ML.NET's schema error.</summary>
    private static bool SchemaError(Exception e) =>
        e is ArgumentOutOfRangeException { ParamName: "inputSchema" } && (e.Message.StartsWith("Could not find", StringComparison.Ordinal) || e.Message.StartsWith("Schema mismatch", StringComparison.Ordinal));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> Outcomes = new();

    private static void LoadOne(byte[] bytes)
    {
        // A hang must fail the run (with the input), not stall it: the load runs on its own thread with a deadline.
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try
            {
                LoadOneInline(bytes);
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true };
        worker.Start();
        if (!worker.Join(TimeSpan.FromSeconds(10)))
        {
            throw new AssertFailedException("loading did not finish within 10 s (a hang)");
        }

        if (failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        }
    }

    private static void LoadOneInline(byte[] bytes)
    {
        var (_, _, rows) = Saved.Value;
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        string outcome;
        try
        {
            var ml = new MLContext(seed: 1);
            ITransformer model = ml.Model.LoadVerified(new MemoryStream(bytes), out _);
            IDataView scored;
            try
            {
                scored = model.Transform(rows);
            }
            catch (Exception e) when (SchemaError(e))
            {
                Outcomes.AddOrUpdate("loaded, data rejected by the schema", 1, (_, n) => n + 1);
                return;
            }

            using var cursor = scored.GetRowCursor(scored.Schema);
            var score = cursor.GetGetter<VBuffer<float>>(scored.Schema["Score"]);
            VBuffer<float> value = default;
            while (cursor.MoveNext())
            {
                score(ref value);
            }

            outcome = "loaded and scored";
        }
        catch (Exception e) when (Documented(e))
        {
            outcome = "rejected";
        }
        catch (Exception e)
        {
            // The cause, not ML.NET's wrapping, is what failed to be documented.
            // The cause, not ML.NET's wrapping, is what failed to be documented.
            throw new AssertFailedException($"undocumented exception: {e}");
        }

        long used = GC.GetAllocatedBytesForCurrentThread() - allocated;
        Assert.IsLessThan(MaxAllocatedBytes, used, $"allocated {used} bytes");
        Assert.IsLessThan(TimeSpan.FromSeconds(10), watch.Elapsed, "no hang");
        Outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
    }

    [TestMethod]
    public void MutatedAndTruncatedModelZips_LoadOrFailWithTheDocumentedException()
    {
        var (zip, entries, _) = Saved.Value;
        LoadOne(zip); // the unmutated file loads
        Outcomes.Clear();
        bool userSet = Environment.GetEnvironmentVariable("CsCheck_Iter") is not null || Environment.GetEnvironmentVariable("CsCheck_Time") is not null;
        Mutations.Sample((Action<Mutation>)(m => LoadOne(m.Apply(zip, entries))), iter: userSet ? -1 : 10_000);
        Console.WriteLine(string.Join(", ", Outcomes.Select(o => $"{o.Key}: {o.Value}")));
        Assert.IsTrue(Outcomes.ContainsKey("rejected") && Outcomes.ContainsKey("loaded and scored"), "the mutations reach both outcomes");
    }
}

