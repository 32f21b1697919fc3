using ScottPlot;

namespace MlRounding.Cli;

/// <summary>Draws y and dy/dx of an op against x as a PNG.</summary>
internal static class CurveChart
{
    public static void Save(string path, string title, IReadOnlyList<CurvePoint> points)
    {
        double[] xs = points.Select(p => p.X).ToArray();
        var plot = new Plot();
        var y = plot.Add.ScatterLine(xs, points.Select(p => p.Y).ToArray());
        y.LegendText = "y";
        y.LineWidth = 2;
        var dydx = plot.Add.ScatterLine(xs, points.Select(p => p.Dydx).ToArray());
        dydx.LegendText = "dy/dx";
        dydx.LinePattern = LinePattern.Dashed;
        if (points.Count > 0 && points[0].Dyds.HasValue)
        {
            var dyds = plot.Add.ScatterLine(xs, points.Select(p => p.Dyds!.Value).ToArray());
            dyds.LegendText = "dy/ds";
            dyds.LinePattern = LinePattern.Dotted;
        }

        plot.Title(title);
        plot.XLabel("x");
        plot.ShowLegend(Alignment.UpperLeft);
        AtomicFile.Write(path, temp => plot.SavePng(temp, 800, 500));
    }
}
