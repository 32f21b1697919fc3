using System.Globalization;

namespace MlRounding.Cli;

/// <summary>Formats op curves as CSV with round-trip numbers.</summary>
internal static class CsvFormat
{
    public static string Number(double value, bool float32) => float32
        ? ((float)value).ToString("R", CultureInfo.InvariantCulture)
        : value.ToString("R", CultureInfo.InvariantCulture);

    public static void WriteCurve(TextWriter writer, IReadOnlyList<CurvePoint> points, bool float32)
    {
        bool lsq = points.Count > 0 && points[0].Dyds.HasValue;
        writer.WriteLine(lsq ? "x,y,dydx,dyds" : "x,y,dydx");
        foreach (var p in points)
        {
            writer.Write(Number(p.X, float32));
            writer.Write(',');
            writer.Write(Number(p.Y, float32));
            writer.Write(',');
            writer.Write(Number(p.Dydx, float32));
            if (lsq)
            {
                writer.Write(',');
                writer.Write(Number(p.Dyds!.Value, float32));
            }

            writer.WriteLine();
        }
    }
}
