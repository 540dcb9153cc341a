import { Body, Controller, Delete, Get, HttpCode, Patch, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor.js';
import { CurrentActor } from '../common/auth/current-actor.decorator.js';
import { ALL_ROLES, Roles } from '../common/auth/roles.decorator.js';
import { ProblemDto } from '../common/http/problem.dto.js';
import { PageQueryDto } from '../common/paging/page-query.dto.js';
import { UuidParam } from '../common/validation/validation.js';
import { ClinicsService } from './clinics.service.js';
import { ChairDto, ChairListDto, CreateChairDto, UpdateChairDto } from './dto/chair.dto.js';
import { ClinicDto, ClinicPageDto, CreateClinicDto, UpdateClinicDto } from './dto/clinic.dto.js';
import { ClosureDto, ClosureListDto, ClosureQueryDto, CreateClosureDto } from './dto/closure.dto.js';
import { CreateStaffDto, StaffDto, StaffListDto, UpdateStaffDto } from './dto/staff.dto.js';

@ApiTags('clinics')
@ApiBadRequestResponse({ description: 'Invalid input; `errors` names each field', type: ProblemDto })
@Controller('clinics')
export class ClinicsController {
  constructor(private readonly service: ClinicsService) {}

  @Post()
  @Roles('admin')
  @ApiOperation({ summary: 'Create a clinic (operator key only)' })
  @ApiCreatedResponse({ type: ClinicDto })
  create(@CurrentActor() actor: Actor, @Body() dto: CreateClinicDto): Promise<ClinicDto> {
    return this.service.create(actor, dto);
  }

  @Get()
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'List clinics (a clinic key sees its own clinic)' })
  @ApiOkResponse({ type: ClinicPageDto })
  list(@CurrentActor() actor: Actor, @Query() q: PageQueryDto): Promise<ClinicPageDto> {
    return this.service.list(actor, q.limit, q.cursor);
  }

  @Get(':clinicId')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'Get a clinic' })
  @ApiOkResponse({ type: ClinicDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  get(@CurrentActor() actor: Actor, @UuidParam('clinicId') id: string): Promise<ClinicDto> {
    return this.service.get(actor, id);
  }

  @Patch(':clinicId')
  @Roles('admin')
  @ApiOperation({ summary: 'Change name, timezone or opening hours' })
  @ApiOkResponse({ type: ClinicDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  update(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @Body() dto: UpdateClinicDto,
  ): Promise<ClinicDto> {
    return this.service.update(actor, id, dto);
  }

  @Get(':clinicId/chairs')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "List the clinic's chairs" })
  @ApiOkResponse({ type: ChairListDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  listChairs(@CurrentActor() actor: Actor, @UuidParam('clinicId') id: string): Promise<ChairListDto> {
    return this.service.listChairs(actor, id);
  }

  @Post(':clinicId/chairs')
  @Roles('admin')
  @ApiOperation({ summary: 'Add a chair' })
  @ApiCreatedResponse({ type: ChairDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'Name already used in this clinic', type: ProblemDto })
  createChair(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @Body() dto: CreateChairDto,
  ): Promise<ChairDto> {
    return this.service.createChair(actor, id, dto);
  }

  @Patch(':clinicId/chairs/:chairId')
  @Roles('admin')
  @ApiOperation({ summary: 'Rename or (de)activate a chair' })
  @ApiOkResponse({ type: ChairDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  @ApiConflictResponse({ description: 'Name already used in this clinic', type: ProblemDto })
  updateChair(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @UuidParam('chairId') chairId: string,
    @Body() dto: UpdateChairDto,
  ): Promise<ChairDto> {
    return this.service.updateChair(actor, id, chairId, dto);
  }

  @Get(':clinicId/staff')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: "List the clinic's staff" })
  @ApiOkResponse({ type: StaffListDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  listStaff(@CurrentActor() actor: Actor, @UuidParam('clinicId') id: string): Promise<StaffListDto> {
    return this.service.listStaff(actor, id);
  }

  @Post(':clinicId/staff')
  @Roles('admin')
  @ApiOperation({ summary: 'Add a staff member with weekly availability' })
  @ApiCreatedResponse({ type: StaffDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  createStaff(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @Body() dto: CreateStaffDto,
  ): Promise<StaffDto> {
    return this.service.createStaff(actor, id, dto);
  }

  @Patch(':clinicId/staff/:staffId')
  @Roles('admin')
  @ApiOperation({ summary: "Change a staff member's details, availability or limit" })
  @ApiOkResponse({ type: StaffDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  updateStaff(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @UuidParam('staffId') staffId: string,
    @Body() dto: UpdateStaffDto,
  ): Promise<StaffDto> {
    return this.service.updateStaff(actor, id, staffId, dto);
  }

  @Get(':clinicId/closures')
  @Roles(...ALL_ROLES)
  @ApiOperation({ summary: 'List closures, optionally within local dates' })
  @ApiOkResponse({ type: ClosureListDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  listClosures(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @Query() q: ClosureQueryDto,
  ): Promise<ClosureListDto> {
    return this.service.listClosures(actor, id, q.from, q.to);
  }

  @Post(':clinicId/closures')
  @Roles('admin')
  @ApiOperation({ summary: 'Close the clinic for whole days or part of a day' })
  @ApiCreatedResponse({ type: ClosureDto })
  @ApiNotFoundResponse({ type: ProblemDto })
  createClosure(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @Body() dto: CreateClosureDto,
  ): Promise<ClosureDto> {
    return this.service.createClosure(actor, id, dto);
  }

  @Delete(':clinicId/closures/:closureId')
  @Roles('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a closure' })
  @ApiNoContentResponse({ description: 'Removed' })
  @ApiNotFoundResponse({ type: ProblemDto })
  deleteClosure(
    @CurrentActor() actor: Actor,
    @UuidParam('clinicId') id: string,
    @UuidParam('closureId') closureId: string,
  ): Promise<void> {
    return this.service.deleteClosure(actor, id, closureId);
  }
}
