import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { CreatePatientDto, PatientDto, PatientPageDto, PatientQueryDto, UpdatePatientDto } from './dto/patient.dto.js';
import { PatientsService } from './patients.service.js';

@ApiTags('patients')
@Roles(...ALL_ROLES)
@ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
@Controller('patients')
export class PatientsController {
  constructor(private readonly service: PatientsService) {}

  @Post()
  @ApiOperation({ summary: 'Register a patient (audited)' })
  @ApiCreatedResponse({ type: PatientDto })
  @ApiNotFoundResponse({ description: 'Unknown clinic', type: ProblemDto })
  create(@CurrentActor() actor: Actor, @Body() dto: CreatePatientDto): Promise<PatientDto> {
    return this.service.create(actor, dto);
  }

  @Get()
  @ApiOperation({ summary: 'Search patients by name, paged (each patient returned is an audited read)' })
  @ApiOkResponse({ type: PatientPageDto })
  search(@CurrentActor() actor: Actor, @Query() query: PatientQueryDto): Promise<PatientPageDto> {
    return this.service.search(actor, query);
  }

  @Get(':patientId')
  @ApiOperation({ summary: 'Get a patient (audited)' })
  @ApiOkResponse({ type: PatientDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  get(@CurrentActor() actor: Actor, @UuidParam('patientId') id: string): Promise<PatientDto> {
    return this.service.get(actor, id);
  }

  @Patch(':patientId')
  @ApiOperation({ summary: "Change a patient's details (audited); null clears an optional field" })
  @ApiOkResponse({ type: PatientDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  update(
    @CurrentActor() actor: Actor,
    @UuidParam('patientId') id: string,
    @Body() dto: UpdatePatientDto,
  ): Promise<PatientDto> {
    return this.service.update(actor, id, dto);
  }
}
