namespace Btmc.Platform.Tables;

/// <summary>
/// A table operation the store refused, with the HTTP status and error code Table storage uses:
/// 404 ResourceNotFound / TableNotFound, 409 EntityAlreadyExists, 412 UpdateConditionNotSatisfied,
/// 400 InvalidInput / PropertyValueTooLarge / OutOfRangeInput ... For a transaction, <see cref="FailedActionIndex"/>
/// names the operation that failed (nothing of the transaction was applied).
/// </summary>
public sealed class TableStoreException(int status, string errorCode, string message, int? failedActionIndex = null)
    : Exception(message)
{
    public int Status { get; } = status;

    public string ErrorCode { get; } = errorCode;

    public int? FailedActionIndex { get; } = failedActionIndex;
}
