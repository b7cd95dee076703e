using Btmc.Platform.Tables;

namespace Btmc.Compute;

/// <summary>
/// Where compute sharing lives in the table store (docs/compute.md, "Storage"):
/// <list type="bullet">
/// <item><c>contributors</c>: PK "contributors", RK contributor id: resource type, public key (JWK), registration time.</item>
/// <item><c>power</c>: PK contributor id, RK epoch (D10): accepted shares and their work, online buckets, rejected counts.</item>
/// <item><c>shares</c>: PK "{contributor}:{job key}", RK nonce (16 hex): accepted shares, for duplicate detection.</item>
/// <item><c>taskcredits</c>: PK contributor id, RK "{epoch D10}:{job id}:{task id}": verified compute-job work (property
/// <c>Work</c>, Int64 work units; <c>VerifiedAt</c>), summed into the contributor's power for that epoch.</item>
/// <item><c>computejobs</c>: PK job id: the job, its tasks and their verification.</item>
/// <item><c>computesettings</c>: PK "settings": the mining job secret (created once).</item>
/// </list>
/// </summary>
public sealed class ComputeTables(ITableServiceClient service, string tablePrefix = "")
{
    public const string ContributorsPartition = "contributors";

    public ITableClient Contributors { get; } = service.GetTableClient(tablePrefix + "contributors");

    public ITableClient Power { get; } = service.GetTableClient(tablePrefix + "power");

    public ITableClient Shares { get; } = service.GetTableClient(tablePrefix + "shares");

    public ITableClient TaskCredits { get; } = service.GetTableClient(tablePrefix + "taskcredits");

    public ITableClient Jobs { get; } = service.GetTableClient(tablePrefix + "computejobs");

    public ITableClient Settings { get; } = service.GetTableClient(tablePrefix + "computesettings");

    public static string EpochKey(long epoch) => epoch.ToString("D10", System.Globalization.CultureInfo.InvariantCulture);

    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        foreach (var table in new[] { Contributors, Power, Shares, TaskCredits, Jobs, Settings })
        {
            await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
