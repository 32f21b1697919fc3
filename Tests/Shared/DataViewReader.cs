using Microsoft.ML;
using Microsoft.ML.Data;

namespace MlRounding.Tests.Shared;

/// <summary>Reads columns of a data view as double arrays (bits preserved for Single through exact widening), keyed by row id.</summary>
internal static class DataViewReader
{
    public static List<double[]> Column(IDataView data, string name) => Rows(data, name).OrderBy(r => r.Id).Select(r => r.Values).ToList();

    public static List<(DataViewRowId Id, double[] Values)> Rows(IDataView data, string name, int cursors = 1)
    {
        var column = data.Schema[name];
        var result = new List<(DataViewRowId, double[])>();
        DataViewRowCursor[] set = cursors == 1
            ? new[] { data.GetRowCursor(new[] { column }) }
            : data.GetRowCursorSet(new[] { column }, cursors);
        foreach (var cursor in set)
        {
            using (cursor)
            {
                var id = cursor.GetIdGetter();
                Func<double[]> read = Reader(cursor, column);
                while (cursor.MoveNext())
                {
                    DataViewRowId rowId = default;
                    id(ref rowId);
                    result.Add((rowId, read()));
                }
            }
        }

        return result;
    }

    private static Func<double[]> Reader(DataViewRow row, DataViewSchema.Column column)
    {
        DataViewType item = column.Type is VectorDataViewType v ? v.ItemType : column.Type;
        bool vector = column.Type is VectorDataViewType;
        if (item == NumberDataViewType.Single)
        {
            if (vector)
            {
                var get = row.GetGetter<VBuffer<float>>(column);
                VBuffer<float> buffer = default;
                return () => { get(ref buffer); return buffer.DenseValues().Select(x => (double)x).ToArray(); };
            }

            var g = row.GetGetter<float>(column);
            float value = 0;
            return () => { g(ref value); return new double[] { value }; };
        }

        if (vector)
        {
            var get = row.GetGetter<VBuffer<double>>(column);
            VBuffer<double> buffer = default;
            return () => { get(ref buffer); return buffer.DenseValues().ToArray(); };
        }

        var gd = row.GetGetter<double>(column);
        double d = 0;
        return () => { gd(ref d); return new[] { d }; };
    }

    /// <summary>Asserts two columns are identical bit for bit (NaN included).</summary>
    public static void AssertIdentical(List<double[]> expected, List<double[]> actual, string what)
    {
        Assert.HasCount(expected.Count, actual, what);
        for (int r = 0; r < expected.Count; r++)
        {
            Assert.HasCount(expected[r].Length, actual[r], $"{what} row {r}");
            for (int i = 0; i < expected[r].Length; i++)
            {
                Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected[r][i]), BitConverter.DoubleToInt64Bits(actual[r][i]),
                    $"{what} row {r} slot {i}: expected {expected[r][i]:R}, got {actual[r][i]:R}");
            }
        }
    }
}
