using System.Security.Cryptography;
using System.Text;
using Btmc.Platform.EventHubs;
using Btmc.Platform.EventLog;

namespace Btmc.Compute.Mining;

/// <summary>The embedded default: the local mining log, partition = SHA-256(contributor) mod the partition count.</summary>
public sealed class MiningLogPublisher(IEventLog log) : IMiningEventPublisher
{
    public static int PartitionOf(string contributor, int partitions) =>
        (int)(BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(contributor)), 0) % (uint)partitions);

    public Task PublishAsync(string contributor, byte[] body, CancellationToken cancellationToken = default) =>
        log.AppendAsync(PartitionOf(contributor, log.PartitionCount), [body], cancellationToken);
}

/// <summary>Azure: the <c>mining-events</c> hub, partition key = contributor id.</summary>
public sealed class MiningHubPublisher(IEventHubSender hub) : IMiningEventPublisher
{
    public Task PublishAsync(string contributor, byte[] body, CancellationToken cancellationToken = default) =>
        hub.SendAsync(contributor, [body], cancellationToken);
}
