import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ description: 'Path of the field, dotted for nested values', example: 'openingHours.1.end' })
  field: string;
  @ApiProperty({ example: 'end must be later than start' })
  message: string;
}

/** RFC 9457 problem details, served as application/problem+json. */
export class ProblemDto {
  @ApiProperty({ description: 'URI identifying the problem type', example: 'urn:chairside:problem:validation-failed' })
  type: string;
  @ApiProperty({ example: 'Bad Request' })
  title: string;
  @ApiProperty({ example: 400 })
  status: number;
  @ApiProperty({ example: 'The request has invalid fields.' })
  detail: string;
  @ApiProperty({ description: 'Stable machine-readable error code', example: 'VALIDATION_FAILED' })
  code: string;
  @ApiPropertyOptional({ description: 'The request path', example: '/v1/clinics' })
  instance?: string;
  @ApiPropertyOptional({ description: 'The request id (also in the x-request-id header and the logs)' })
  requestId?: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'One entry per invalid field' })
  errors?: FieldErrorDto[];
}
