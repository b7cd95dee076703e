namespace Btmc.Platform.Tables;

public enum TableTransactionActionType
{
    Add,
    UpdateMerge,
    UpdateReplace,
    UpsertMerge,
    UpsertReplace,
    Delete,
}

/// <summary>
/// One operation of an entity group transaction. <see cref="IfMatch"/> applies to updates and deletes:
/// an ETag, or "*" (the default) for any version.
/// </summary>
public sealed record TableTransactionAction(TableTransactionActionType ActionType, TableEntity Entity, string IfMatch = "*");
