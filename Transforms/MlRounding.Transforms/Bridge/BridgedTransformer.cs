using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

namespace MlRounding.Bridge;

/// <summary>
/// Bridge: runs an <see cref="IColumnMapping"/> through ML.NET's own row-to-row plumbing
/// (<see cref="RowToRowTransformerBase"/>, <c>MapperBase</c>, <c>RowToRowMapperTransform</c>), which gives lazy
/// cursors, parallel cursor sets and <c>PredictionEngine</c> support exactly as built-in transforms have them.
/// Overrides of members that are private protected in ML.NET are public here because the reference assemblies are
/// publicized; the class itself is internal.
/// </summary>
internal sealed class BridgedTransformer : RowToRowTransformerBase
{
    private readonly IColumnMapping _mapping;

    public BridgedTransformer(IHostEnvironment env, IColumnMapping mapping)
        : base(env.Register(mapping.Name))
    {
        _mapping = mapping;
    }

    protected override void SaveModel(ModelSaveContext ctx) => ModelPersistence.Save(ctx, _mapping);

    protected override IRowMapper MakeRowMapper(DataViewSchema schema) => new Mapper(this, schema, _mapping.Bind(schema));

    private sealed class Mapper : MapperBase
    {
        private readonly BridgedTransformer _owner;
        private readonly IReadOnlyList<BoundColumn> _columns;

        public Mapper(BridgedTransformer parent, DataViewSchema schema, IReadOnlyList<BoundColumn> columns)
            : base(parent.Host.Register("Mapper"), schema, parent)
        {
            _owner = parent;
            _columns = columns;
        }

        protected override DataViewSchema.DetachedColumn[] GetOutputColumnsCore() =>
            _columns.Select(c => new DataViewSchema.DetachedColumn(c.Name, c.Type, c.Annotations)).ToArray();

        protected override Delegate MakeGetter(DataViewRow input, int iinfo, Func<int, bool> activeOutput, out Action disposer)
        {
            disposer = null!;
            return _columns[iinfo].MakeGetter(input);
        }

        protected override Func<int, bool> GetDependenciesCore(Func<int, bool> activeOutput)
        {
            var needed = new HashSet<int>();
            for (int i = 0; i < _columns.Count; i++)
            {
                if (activeOutput(i))
                {
                    needed.Add(_columns[i].SourceIndex);
                }
            }

            return needed.Contains;
        }

        protected override void SaveModel(ModelSaveContext ctx) => _owner.SaveModel(ctx);
    }
}
